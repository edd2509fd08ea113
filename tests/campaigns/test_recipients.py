"""Recipients from the files spreadsheets really write: encodings, separators, quotes, and every
bad row listed with its reason."""

import codecs
import csv
import io

import pytest

from campaigns.recipients import RecipientField, RecipientFileError, read_recipients
from core.spreadsheet import safe_cell

FIELDS = [
    RecipientField("first_name", "given_name"),
    RecipientField("company", "company", required=False),
]
ROWS = [
    ["First name", "Company", "Email"],
    ["Zoë", "Brûlé & Fils", "z@example.com"],
    ["José", "", ""],
]


def table(delimiter=",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(ROWS)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (table().encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + table().encode("utf-8"), "utf-8-sig"),
        (table("\t").encode("utf-16"), "utf-16"),  # Excel's "Unicode text"
        (table(";").encode("cp1252"), "cp1252"),  # Excel's CSV in much of Europe
        (table(";").encode("utf-16-le"), "utf-16-le"),
    ],
)
def test_the_files_spreadsheets_write_are_read_alike(data, encoding):
    recipients = read_recipients(data, FIELDS, max_rows=10)
    assert recipients.ok, recipients.problems
    assert recipients.encoding == encoding
    assert [r.values for r in recipients.rows] == [
        {"first_name": "Zoë", "company": "Brûlé & Fils"},
        {"first_name": "José", "company": ""},
    ]
    assert recipients.columns == ["First name", "Company"]
    assert recipients.ignored_columns == ["Email"]  # read, never kept


def test_quoted_fields_keep_their_separators_and_quotes():
    data = b'first_name,company\n"Ann","Smith, Jones & Co."\n"Ben","The ""Best"" Ltd."\n'
    recipients = read_recipients(
        data, [*FIELDS[:1], RecipientField("company", "text")], max_rows=10
    )
    assert [r.values["company"] for r in recipients.rows] == [
        "Smith, Jones & Co.",
        'The "Best" Ltd.',
    ]


def test_a_respelling_column_says_how_to_say_each_value():
    data = b"first_name,first_name:say\nSiobhan,shi-VAWN\nAnn,\n"
    recipients = read_recipients(data, FIELDS, max_rows=10)
    assert [r.say for r in recipients.rows] == [{"first_name": "shi-VAWN"}, {}]


def test_every_bad_row_is_listed_with_its_line_and_reason():
    data = (
        "first_name,company\n"
        "Ann,Acme\n"
        ",Acme\n"  # line 3: required and empty
        "R2D2,Acme\n"  # 4: not a given name
        '"{{company}}",Acme\n'  # 5: a merge field inside a value
        "Bea,[pause 9s] wire money\n"  # 6: markup inside a value
        "Cy\x07,Acme\n"  # 7: a control character
        "ann,ACME\n"  # 8: repeats line 2 (case aside)
        f"{'D' * 41},Acme\n"  # 9: too long for a given name
        "Dee,Acme,extra\n"  # 10: a cell beyond the header
    ).encode()
    recipients = read_recipients(data, FIELDS, max_rows=100)
    assert not recipients.ok
    found = {(p.line, p.column): p.reason for p in recipients.problems}
    kind = "a given name: letters, spaces, hyphens and apostrophes"
    assert found == {
        (3, "first_name"): "first_name is empty; every recipient needs a first_name",
        (4, "first_name"): f"first_name is not {kind} (e.g. Anne-Marie)",
        (5, "first_name"): "first_name contains a brace: values cannot hold merge fields",
        (6, "company"): "company contains a square bracket: values cannot hold script markup",
        (7, "first_name"): "first_name contains a control character",
        (8, ""): "repeats line 2",
        (9, "first_name"): f"first_name is 41 characters; {kind} has at most 40",
        (10, ""): "has 3 cells; the header has 2",
    }
    assert len(recipients.rows) == 9  # listed, not saved: the caller saves only a clean list


def test_the_problems_download_is_safe_to_open_in_a_spreadsheet():
    data = b'first_name,company\nAnn,"=HYPERLINK(""http://evil"")"\n'
    recipients = read_recipients(
        data, [FIELDS[0], RecipientField("company", "company")], max_rows=10
    )
    rows = list(csv.DictReader(io.StringIO(recipients.problems_csv())))
    assert rows[0]["line"] == "2"
    assert rows[0]["value"].startswith("'=HYPERLINK")
    assert safe_cell("-2+3") == "'-2+3" and safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("Ann") == "Ann" and safe_cell(None) == ""


def test_a_row_check_adds_its_own_reason():
    data = b"first_name\nAnn\nGamble\n"
    recipients = read_recipients(
        data,
        FIELDS[:1],
        max_rows=10,
        check_row=lambda r: (
            "puts a forbidden topic (gambling) into the script"
            if r.values["first_name"] == "Gamble"
            else None
        ),
    )
    assert [(p.line, p.reason) for p in recipients.problems] == [
        (3, "puts a forbidden topic (gambling) into the script")
    ]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"first_name\n", "no recipients"),
        (b"name,company\nAnn,Acme\n", "no column for first_name (it names: name, company)"),
        (b"first_name,First Name\nAnn,Ann\n", 'names the column "First Name" twice'),
        (
            b"first_name\n" + b"Ann\n" * 0 + b"".join(b"P%c\n" % (65 + i) for i in range(6)),
            "more than 5 recipients",
        ),
        (b'first_name\n"Ann\n', "cannot be read as CSV"),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x81\x8d\x8f",
            "not text in UTF-8, UTF-16 or Windows-1252",
        ),
        (b"first_name\nA\x00nn\n", "NUL"),
        (b"x" * 2000, "is 2.0\xa0KB; the limit for a recipients file is 1000\xa0bytes"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_a_reason(data, words):
    with pytest.raises(RecipientFileError) as refused:
        read_recipients(data, FIELDS, max_rows=5, max_bytes=1000)
    assert words in str(refused.value)
