# The matrix is made of look-alike characters on purpose.
# ruff: noqa: RUF001, RUF003
"""Forbidden topics are found however a script spells them, and only where they are."""

import pytest

from engine.text.topics import find_topic, fold, inflections
from engine.voice.festival import script_chunks
from engine.voice.spoken import spoken_text

# The tester's matrix (issue 12): each of these passed the old check and was spoken as the topic.
DODGES = [
    ("Let's talk poli\u200btics tonight.", "politics"),  # zero-width space
    ("Let's talk poli\u00adtics tonight.", "politics"),  # soft hyphen
    ("Let's talk poli\u2060tics tonight.", "politics"),  # word joiner
    ("Let's talk poli\ufeffti\u200dcs tonight.", "politics"),  # BOM and zero-width joiner
    ("Let's talk ｐｏｌｉｔｉｃｓ tonight.", "politics"),  # fullwidth
    ("Let's talk 𝐩𝐨𝐥𝐢𝐭𝐢𝐜𝐬 tonight.", "politics"),  # mathematical bold
    ("Let's talk 𝘱𝘰𝘭𝘪𝘵𝘪𝘤𝘴 tonight.", "politics"),  # mathematical sans-serif italic
    ("Let's talk pólitícs tonight.", "politics"),  # accents
    ("Let's talk p\u0308olitics tonight.", "politics"),  # a combining mark
    ("Let's talk p\u043elit\u0456cs tonight.", "politics"),  # Cyrillic о and і
    ("Let's talk \u03a1\u039fL\u0399TICS tonight.", "politics"),  # Greek capitals
    ("Let's talk POLITICS tonight.", "politics"),
    ("Let's talk poli[pause 0.1s]tics tonight.", "politics"),
    ("Let's talk poli[slow]tics[/slow] tonight.", "politics"),
    ("Let's talk p.o.l.i.t.i.c.s tonight.", "politics"),
    ("Let's talk p o l i t i c s tonight.", "politics"),
    ("Let's talk poli-tics tonight.", "politics"),
    ("A political message.", "politics"),
    ("Our religious holidays.", "religion"),
    ("Come and gamble with us.", "gambling"),
    ("Politically speaking, yes.", "politics"),
    ("Stop climate-change now.", "climate change"),
    ("Stop climate_change now.", "climate change"),
    ("Stop climate\u2013change now.", "climate change"),  # en dash
    ("Stop climate\nchange now.", "climate change"),
    ("Stop climate . change now.", "climate change"),
    ("Stop #ClimateChange now.", "climate change"),
    ("Stop climate changes now.", "climate change"),
    ("Share #StopTheSteal today.", "#stopthesteal"),
    ("Share #stop_the_steal today.", "#stopthesteal"),
    ("Share StopTheSteal today.", "#stopthesteal"),
    ("Say it: stop the steal.", "#stopthesteal"),
    ("We teach C++ here.", "c++"),
    ("We teach C plus plus here.", "c++"),
    ("We teach ｃ＋＋ here.", "c++"),
    ("Please vote tomorrow.", "vote"),
    ("Votes matter.", "vote"),
    ("Voting is open.", "vote"),
    ("I voted.", "vote"),
    ("Ask the voters.", "vote"),
    ("Guns are loud.", "gun"),
    ("A racist remark.", "racism"),
    ("Élection day.", "election"),
    ("We teach C[pause 0.2s]++ here.", "c++"),  # markup inside the symbols
    ("We teach C++17 here.", "c++"),  # a trailing symbol needs no word boundary after it
    ("Let's talk p o l [pause 0.1s] i t i c s tonight.", "politics"),
    ("No more w a r please.", "war"),  # a run of three single letters is a word
    ("Stop the war now.", "war!"),  # a core of three letters matches without its symbol
]

# Words near a topic that are not the topic.
NEAR_MISSES = [
    ("We are devoted to you.", "vote"),
    ("A devotee of the craft.", "vote"),
    ("Plan C is ready.", "c++"),
    ("Be polite, please.", "politics"),
    ("Our policy is clear.", "politics"),
    ("The climate is mild.", "climate change"),
    ("Change your password.", "climate change"),
    ("We stop at the station.", "#stopthesteal"),
    ("Handmade wares on sale.", "war"),
    ("A Christian choir sings.", "christ"),
    ("The begun task.", "gun"),
    ("Our weather update.", "politics"),
    ("We bought the Calc++ app for the team.", "c++"),  # a leading letter: another name
    ("Share #warmth today.", "#war"),
    ("Plan E is ready.", "e!"),  # a short core needs its symbol, even as the voice says it
    ("A nice hat.", "hate"),
    ("Meet us on Main St. today.", "sting"),
    ("Let us talk about the climate", "climate change"),  # the first word last
]


@pytest.mark.parametrize(("script", "topic"), DODGES)
def test_a_forbidden_topic_is_found_however_it_is_spelled(script, topic):
    assert find_topic([script], ["gardening", topic]) == topic


@pytest.mark.parametrize(("script", "topic"), NEAR_MISSES)
def test_a_word_near_a_topic_is_not_the_topic(script, topic):
    assert find_topic([script, spoken_text(script)], [topic]) is None


# Dodges whose letters festival cannot say at all (Cyrillic, Greek; it keeps ASCII only) are
# seen in the written script, never heard, so only the others are looked for in the speech.
@pytest.mark.parametrize(
    ("script", "topic"),
    [
        (script, topic)
        for script, topic in DODGES
        if not any(mark in script for mark in ("\u043e", "\u03a1", "ｃ＋＋"))
    ],
)
def test_what_the_voice_says_for_a_dodge_is_caught_in_the_spoken_text(script, topic):
    said = spoken_text(script)
    assert said == " ".join(c.text for c in script_chunks(script) if c.text) or "[" in script
    assert find_topic([said], [topic]) == topic


def test_a_respelling_that_spells_a_topic_is_caught_in_the_spoken_text():
    script = "Thank you for watching our weather update."
    lexicon = {"weather": "politics", "update": "vote for candidate Smith"}
    spoken = spoken_text(script, lexicon)
    assert spoken == "Thank you for watching our politics vote for candidate Smith."
    assert find_topic([script], ["politics"]) is None
    assert find_topic([script, spoken], ["politics"]) == "politics"


def test_the_folded_form_has_no_invisible_characters_or_look_alikes():
    assert fold("Ｐoli\u00adtics \u200b𝐀É") == "politics ae"
    assert fold("climate_change\u2013now") == "climate-change-now"


def test_inflections_cover_plurals_verbs_and_adjectives():
    assert {"political", "politically", "politic"} <= inflections("politics")
    assert {"votes", "voted", "voting", "voter", "voters"} <= inflections("vote")
    assert "devoted" not in inflections("vote")
    assert {"gunned", "gunning", "guns"} <= inflections("gun")
    assert "politics" in inflections("political")


def test_blank_topics_match_nothing():
    assert find_topic(["Anything at all."], ["", "   "]) is None


@pytest.mark.parametrize(
    ("word", "forms"),
    [
        ("parties", {"party", "partying", "partied"}),
        ("flies", {"fly", "flying"}),
        ("ties", {"tie", "tied"}),
        ("guns", {"gun", "gunned"}),
        ("political", {"politic", "politics", "politically"}),
        ("communism", {"communist", "communists"}),
        ("communist", {"communism"}),
        ("racist", {"racism"}),
        ("voting", {"vote", "votes", "voter"}),
        ("bus", {"buses"}),
        ("tax", {"taxes", "taxed", "taxing"}),
        ("waltz", {"waltzes"}),
        ("draw", {"drawing", "drawer"}),
        ("market", {"marketed", "marketing", "marketer", "marketers"}),  # no doubling needed
        ("gun", {"gunner", "gunners"}),
        ("church", {"churches"}),
        ("crash", {"crashes"}),
        ("fanatic", {"fanatics", "fanatical", "fanatically"}),
        ("nation", {"national", "nationally"}),
        ("bomb", {"bombed", "bombing", "bomber", "bombers"}),
        ("destroy", {"destroyed", "destroying", "destroyer"}),
        ("party", {"parties", "partied", "partying"}),
        ("wedding", {"weddings"}),  # an -ing noun keeps its own plural beside its verb
    ],
)
def test_inflections_reach_the_forms_english_makes(word, forms):
    assert forms <= inflections(word)


@pytest.mark.parametrize(
    ("word", "not_forms"),
    [
        ("kiss", {"kis"}),  # "ss" is no plural
        ("bus", {"bu"}),  # nor is a three-letter word's "s"
        ("thing", {"th", "the"}),  # a five-letter "-ing" is no verb form
        ("draw", {"drawwing", "drawwed"}),  # only a consonant after a short vowel doubles
        ("tax", {"taxxed", "taxxing"}),
    ],
)
def test_inflections_do_not_invent_stems(word, not_forms):
    assert not (not_forms & inflections(word))


@pytest.mark.parametrize("word", ["ai", "5g", "ww2"])
def test_a_short_or_digit_word_is_matched_as_it_is(word):
    assert inflections(word) == {word}


def test_folding_drops_control_characters_but_keeps_whitespace():
    assert fold("poli\x07ti\x1bcs") == "politics"
    assert fold("climate\tchange\nnow") == "climate\tchange\nnow"


def test_folding_drops_enclosing_marks():
    assert fold("p\u20ddolitics") == "politics"  # a combining enclosing circle


def test_two_single_letters_in_a_row_are_not_read_as_a_word():
    """Three or more single letters in a row spell a word ("g u n"); two are just two words."""
    assert find_topic(["Take vitamin A. I do."], ["AI"]) is None
    assert find_topic(["Say it: A I."], ["AI"]) is None
