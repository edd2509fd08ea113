"""Captions: the script's words, at the times they are spoken, in cues a viewer can read, after a
cue that says the video is AI-generated."""

import itertools

import pytest

from engine.captions import (
    MAX_CUE_SECONDS,
    MAX_LINE_CHARS,
    MIN_CUE_SECONDS,
    ScriptWord,
    TimedWord,
    align,
    break_lines,
    build_captions,
    caption_paths,
    group_words,
    language_of_label,
    make_cues,
    script_words,
)
from engine.label import CARD_TEXTS, LABEL_TEXTS
from engine.pipeline import render
from engine.spec import RenderSpec
from tests.caption_files import caption_words, parse_srt, parse_vtt
from tests.caption_files import script_words as words_without_markup
from tests.media import ffprobe


def timed(text: str, start: float = 0.0, step: float = 0.3, gap: float = 0.05) -> list[TimedWord]:
    """The words of ``text`` spoken one after the other, each ``step`` long."""
    words = []
    for word in text.split():
        words.append(TimedWord(word, round(start, 3), round(start + step, 3)))
        start += step + gap
    return words


def test_a_short_cue_is_one_line():
    assert break_lines(["Hello", "there."]) == ["Hello there."]


def test_a_long_cue_is_two_balanced_lines_within_the_limit():
    text = "This sentence is much too long for a single line of captions"
    lines = break_lines(text.split(" "))
    assert len(lines) == 2 and all(len(line) <= MAX_LINE_CHARS for line in lines)
    assert abs(len(lines[0]) - len(lines[1])) <= 8
    assert " ".join(lines) == text


def test_lines_break_after_punctuation_when_it_is_near_the_middle():
    text = "We met in Lisbon last spring, and the plan worked out well"
    assert break_lines(text.split(" "))[0] == "We met in Lisbon last spring,"


def test_a_sentence_end_starts_a_new_cue():
    groups = group_words(timed("Hello there. How are you?"))
    assert [[w.text for w in g] for g in groups] == [["Hello", "there."], ["How", "are", "you?"]]


def test_an_abbreviation_does_not_end_the_cue():
    groups = group_words(timed("Made in the U.S.A. by hand."))
    assert len(groups) == 1


def test_a_silence_between_words_starts_a_new_cue():
    words = [*timed("one two", 0.0), *timed("three four", 2.0)]
    assert [len(g) for g in group_words(words)] == [2, 2]


def test_an_explicit_pause_starts_a_new_cue_even_without_silence():
    first, second = timed("wait for it")[:2], timed("it", 0.7)
    words = [*first, TimedWord("it", second[0].start, second[0].end, pause_before=True)]
    assert [len(g) for g in group_words(words)] == [2, 1]


def test_no_cue_is_longer_than_two_lines_or_six_seconds():
    text = "and " * 20 + "so on for a long while, " * 6 + "done."
    for group in group_words(timed(text, step=0.4)):
        lines = break_lines([w.text for w in group])
        assert len(lines) <= 2 and all(len(line) <= MAX_LINE_CHARS for line in lines)
        assert group[-1].end - group[0].start <= MAX_CUE_SECONDS


def test_a_full_cue_is_cut_after_its_last_comma():
    words = timed(
        "We sell good bread in the old town square, and the new one opens soon after the "
        "summer holidays"
    )
    first = group_words(words)[0]
    assert first[-1].text == "square,"


def test_a_short_cue_is_held_up_to_the_next_cue_and_never_past_the_video():
    words = [*timed("Hi.", 0.5, step=0.2), *timed("Bye.", 1.0, step=0.2)]
    cues = make_cues(words, video_seconds=1.5)
    assert (cues[0].start, cues[0].end) == (0.5, 1.0)  # held until the next cue starts
    assert cues[1].end == 1.5  # held, but not past the end of the video
    alone = make_cues(timed("Hi.", 0.5, step=0.2), video_seconds=10)[0]
    assert alone.end - alone.start == MIN_CUE_SECONDS


def test_markup_is_not_shown_and_a_respelled_word_shows_as_written():
    words = script_words("Ask [say nee-SHAH]Nisha[/say] now. [pause 1s][slow]Then wait.[/slow]")
    assert [w.text for w in words] == ["Ask", "Nisha", "now.", "Then", "wait."]
    assert words[1].spoken == "nee-SHAH" and words[3].pause_before


def test_script_words_take_the_time_of_the_words_they_were_spoken_as():
    words = [
        ScriptWord("It's", "It's"),
        ScriptWord("$25,", "$25,"),
        ScriptWord("Likeness.", "Likeness."),
    ]
    spoken = [
        ("It's", 0.0, 0.2),
        ("twenty", 0.2, 0.5),
        ("five", 0.5, 0.7),
        ("dollars", 0.7, 1.1),
        ("LYKE", 1.2, 1.4),
        ("ness", 1.4, 1.6),
    ]
    out = align(words, spoken, lexicon={"Likeness": "LYKE-ness"})
    assert [(w.text, w.start, w.end) for w in out] == [
        ("It's", 0.0, 0.2),
        ("$25,", 0.2, 1.1),
        ("Likeness.", 1.2, 1.6),
    ]


def test_words_read_differently_by_the_engine_share_the_time_they_face():
    words = script_words("On 3/4 we go.")
    spoken = [("On", 0.0, 0.2), ("three", 0.2, 0.4), ("quarters", 0.4, 0.8), ("we", 0.8, 1.0)]
    spoken.append(("go", 1.0, 1.2))
    out = align(words, spoken)
    assert [w.text for w in out] == ["On", "3/4", "we", "go."]
    assert (out[1].start, out[1].end) == (0.2, 0.8)


def test_captions_open_with_the_disclosure_cue_in_the_label_language():
    captions = build_captions(
        "Hallo zusammen.",
        [("Hallo", 0.4, 0.8), ("zusammen", 0.8, 1.4)],
        language="de",
        video_seconds=2.0,
        disclosure_seconds=3.0,
    )
    for cues in (parse_vtt(captions.vtt), parse_srt(captions.srt)):
        assert (cues[0].start, cues[0].end) == (0.0, 2.0)  # never past the video
        assert cues[0].text == f"[{LABEL_TEXTS['de']}] {CARD_TEXTS['de']}"
        assert [c.text for c in cues[1:]] == ["Hallo zusammen."]


def test_the_language_of_a_label_is_found_and_a_custom_label_is_english():
    assert language_of_label(LABEL_TEXTS["fr"]) == "fr"
    assert language_of_label("Synthetic") == "en"


SCRIPT = (
    "Welcome to Likeness. [pause 1s] Our plan costs $25 a month, and [slow]every video is "
    "labeled[/slow] as AI-generated. Ask [say nee-SHAH]Nisha[/say] anything!"
)


@pytest.fixture(scope="session")
def rendered_with_captions(tmp_path_factory, astronaut_png):
    from engine.face import inspect_portrait

    spec = RenderSpec(
        script_text=SCRIPT,
        portrait_path=str(astronaut_png),
        portrait_landmarks=inspect_portrait(astronaut_png).landmarks,
        voice_engine="festival",
        width=128,
        height=128,
        label_text=LABEL_TEXTS["fr"],
        pronunciations={"Likeness": "LYKE-ness"},
        disclosure_card_seconds=1.5,
        disclosure_card_text=CARD_TEXTS["fr"],
    )
    out = tmp_path_factory.mktemp("captions") / "video.mp4"
    render(spec, out)
    vtt, srt = caption_paths(out)
    return out, parse_vtt(vtt.read_text("utf-8")), parse_srt(srt.read_text("utf-8"))


def test_a_render_writes_captions_beside_the_video_that_open_with_the_disclosure(
    rendered_with_captions,
):
    _, vtt, srt = rendered_with_captions
    for cues in (vtt, srt):
        assert cues[0].start == 0 and cues[0].end == 1.5  # as long as the opening card
        assert cues[0].text.startswith(f"[{LABEL_TEXTS['fr']}]")


def test_rendered_captions_show_the_script_words_in_order_within_the_video(
    rendered_with_captions,
):
    out, vtt, srt = rendered_with_captions
    duration = float(ffprobe(out)["format"]["duration"])
    speech = vtt[1:]
    assert caption_words(speech) == words_without_markup(SCRIPT)
    assert all(0 < c.start < c.end <= duration + 0.01 for c in speech)
    assert all(a.end <= b.start for a, b in itertools.pairwise(speech))
    assert [(c.start, c.end, c.lines) for c in srt] == [(c.start, c.end, c.lines) for c in vtt]
    text = " ".join(c.text for c in vtt)
    assert "[pause" not in text and "nee-SHAH" not in text and "LYKE" not in text
