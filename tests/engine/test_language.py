"""The language of a script, detected by a model that ships in its package, with a confidence."""

import pytest

from engine.text.language import LANGUAGES, MIN_WORDS, detect_language

SENTENCES = [
    ("en", "Thank you for watching our weather update."),
    ("en", "Please complete the safety training before Friday afternoon."),
    ("en", "Welcome to the onboarding course, where you will learn how to file expenses."),
    ("de", "Vielen Dank, dass Sie unser Wetter-Update angesehen haben."),
    ("de", "Bitte schließen Sie die Sicherheitsschulung bis Freitag ab."),
    ("fr", "Merci d'avoir regardé notre bulletin météo de la semaine."),
    ("fr", "Veuillez terminer la formation de sécurité avant vendredi."),
    ("es", "Gracias por ver nuestro informe del tiempo de esta semana."),
    ("es", "Por favor, complete la formación de seguridad antes del viernes."),
]


@pytest.mark.parametrize(("language", "text"), SENTENCES)
def test_a_sentence_is_confidently_in_its_language(language, text):
    guess = detect_language(text)
    assert (guess.language, guess.confident) == (language, True), guess


@pytest.mark.parametrize("text", ["Hi Anna!", "OK.", "Hello team.", "Bonjour Anna", "Danke!"])
def test_a_short_text_is_never_confident(text):
    guess = detect_language(text)
    assert guess.words < MIN_WORDS and not guess.confident


def test_a_text_without_words_has_no_language():
    guess = detect_language("123 -- !!")
    assert (guess.language, guess.words, guess.confident) == ("", 0, False)


def test_detection_is_limited_to_the_known_languages_and_names_them():
    guess = detect_language("Dank u wel voor het kijken naar onze weerberichten van vandaag.")
    assert guess.language in LANGUAGES and guess.name == "Dutch"
