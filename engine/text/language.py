"""The language a script is written in, with a confidence, for the consent's language scope.

The identifier is py3langid (a maintained fork of langid.py, BSD): a naive Bayes model over byte
n-grams that ships inside the package, so nothing is downloaded. It is restricted to
``LANGUAGES``: the languages a consent can name plus the common languages near them, so a Dutch
or Swedish script is called Dutch or Swedish rather than forced into German or English.

A guess is ``confident`` only when the text has at least ``MIN_WORDS`` words and the model gives
its language at least ``MIN_PROBABILITY``. Short texts ("Hi Anna!", "OK.") are ambiguous: names,
greetings and loanwords are shared between languages, and the identifier's probabilities on a few
words are overconfident, so they are never refused for their language.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# ISO 639-1 codes. The first six are the languages a consent can cover (consent.models.Language).
LANGUAGES = (
    *("en", "fr", "de", "es", "it", "pt"),
    *("nl", "sv", "da", "no", "fi", "pl", "cs", "ro", "hu", "tr", "el", "ru", "uk"),
    *("ar", "he", "hi", "zh", "ja", "ko"),
)
NAMES = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "sv": "Swedish",
    "da": "Danish",
    "no": "Norwegian",
    "fi": "Finnish",
    "pl": "Polish",
    "cs": "Czech",
    "ro": "Romanian",
    "hu": "Hungarian",
    "tr": "Turkish",
    "el": "Greek",
    "ru": "Russian",
    "uk": "Ukrainian",
    "ar": "Arabic",
    "he": "Hebrew",
    "hi": "Hindi",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
}
MIN_WORDS = 5
MIN_PROBABILITY = 0.95
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class LanguageGuess:
    """``language``: an ISO 639-1 code of ``LANGUAGES`` ("" for a text without words);
    ``probability``: the model's, from 0 to 1; ``words``: how many words it was judged on."""

    language: str
    probability: float
    words: int

    @property
    def confident(self) -> bool:
        return self.words >= MIN_WORDS and self.probability >= MIN_PROBABILITY

    @property
    def name(self) -> str:
        return NAMES.get(self.language, self.language)


@functools.cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect_language(text: str) -> LanguageGuess:
    """The language ``text`` (plain words, no markup) is most likely written in."""
    words = len(_WORD.findall(text))
    if not words:
        return LanguageGuess("", 0.0, 0)
    language, probability = _identifier().classify(text)
    return LanguageGuess(str(language), float(probability), words)
