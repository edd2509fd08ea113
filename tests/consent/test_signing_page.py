"""The subject's signing page as a person sees it: every label names a field they can fill, a button
that cannot be pressed looks it, and there is a place to play back their own clip."""

import re
from html.parser import HTMLParser

import pytest
import tinycss2
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db


class Elements(HTMLParser):
    """Every start tag's attributes, in page order."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = Elements()
    parser.feed(html)
    return parser.tags


def orphan_labels(html: str) -> list[str]:
    """The `for` of each label that names no field a person can see and fill."""
    tags = elements(html)
    fields = {
        attrs["id"]: attrs
        for tag, attrs in tags
        if "id" in attrs and attrs.get("type", "").lower() != "hidden"
    }
    labels = [attrs["for"] for tag, attrs in tags if tag == "label" and "for" in attrs]
    return [target for target in labels if target not in fields]


def signing_page(client, token):
    return client.get(reverse("consent:link_home", args=[token]))


def test_the_signing_page_has_no_label_without_its_field(client, invite):
    _grant, token = invite()
    response = signing_page(client, token)
    page = response.content.decode()
    assert response.templates[0].name == "consent/ceremony.html"
    assert orphan_labels(page) == []
    assert "Drawn signature" not in page and "Document sha256" not in page
    # The hidden fields are still sent with the form.
    hidden = {a["name"] for t, a in elements(page) if t == "input" and a.get("type") == "hidden"}
    assert {"drawn_signature", "document_sha256"} <= hidden


def test_a_refused_signature_shows_no_orphan_label_and_still_says_what_went_wrong(client, invite):
    grant, token = invite()
    response = client.post(
        reverse("consent:link_sign", args=[token]),
        {"typed_name": grant.subject.full_name, "agree": "on", "drawn_signature": "not a png"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert orphan_labels(page) == []
    assert "The drawn signature is not a PNG image; draw it again." in page


def rules_of(stylesheet: str):
    for rule in tinycss2.parse_stylesheet(stylesheet, skip_comments=True, skip_whitespace=True):
        if rule.type == "qualified-rule":
            selectors = [s.strip() for s in tinycss2.serialize(rule.prelude).split(",")]
            declarations = tinycss2.parse_declaration_list(
                rule.content, skip_comments=True, skip_whitespace=True
            )
            yield (
                selectors,
                {
                    d.name: tinycss2.serialize(d.value).strip()
                    for d in declarations
                    if d.type == "declaration"
                },
            )


def test_the_stylesheet_makes_a_disabled_button_look_disabled():
    with open(finders.find("css/site.css"), encoding="utf-8") as css:
        rules = list(rules_of(css.read()))
    disabled = {}
    for selectors, declarations in rules:
        if "button:disabled" in selectors:
            disabled.update(declarations)
    assert disabled, "no rule styles button:disabled"
    assert disabled.get("cursor") == "not-allowed"
    assert float(disabled.get("opacity", "1")) < 0.7
    # Not undone by a later rule for every button.
    for selectors, declarations in rules:
        if "button" in selectors:
            assert "opacity" not in declarations


def test_the_signing_page_has_a_hidden_player_for_the_subjects_own_clip(client, invite):
    _grant, token = invite()
    page = signing_page(client, token).content.decode()
    assert re.search(r'<figure id="playback-box"[^>]*\bhidden\b', page)
    (player,) = [a for t, a in elements(page) if t == "video" and a.get("id") == "playback"]
    assert "controls" in player and "muted" not in player
