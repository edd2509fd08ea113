import pytest

from engine.audio import duration_seconds
from engine.errors import AudioTooShort, CorruptAudio, EmptyScript, SilentAudio
from engine.voice import get_voice_engine, inspect_voice_sample
from engine.voice.festival import sanitize_script, split_sentences


def test_festival_speech_has_words_in_order_inside_the_audio(speech):
    seconds = duration_seconds(speech.wav_path)
    assert abs(seconds - speech.seconds) < 0.01
    assert [w for w, _, _ in speech.words][:2] == ["Good", "morning"]
    assert len(speech.words) == 11
    previous_end = 0.0
    for _, start, end in speech.words:
        assert previous_end - 1e-6 <= start < end <= seconds + 1e-6
        previous_end = end
    assert speech.phonemes[0][0] == "pau"
    assert all(s <= e for _, s, e in speech.phonemes)


def test_hostile_text_is_spoken_as_words_and_never_runs_as_scheme(tmp_path):
    marker = tmp_path / "injected"
    hostile = (
        f'Hi") (system "touch {marker}") (print "x" ; back\\slash \\" (quit) done.\n; (set! a 1)'
    )
    speech = get_voice_engine("festival").speak(hostile, [], str(tmp_path / "hostile.wav"))
    assert not marker.exists()
    spoken = [w.lower() for w, _, _ in speech.words]
    assert "system" in spoken and "touch" in spoken and "done" in spoken
    assert speech.seconds > 1.0


def test_sanitized_script_has_no_quote_or_backslash():
    cleaned = sanitize_script(
        'Say "hi" \\ (now); caf\u00e9 \u2014 \u201cok\u201d it\u2019s 5% & more'
    )
    assert '"' not in cleaned and "\\" not in cleaned and "(" not in cleaned
    assert cleaned == "Say hi, now, cafe, ok it's 5 percent and more"


def test_long_scripts_are_cut_at_sentence_boundaries():
    text = "One sentence here. " * 40 + "word " * 120
    chunks = split_sentences(text, max_chars=240)
    assert all(len(c) <= 240 for c in chunks)
    assert chunks[0] == "One sentence here."
    assert " ".join(chunks).split() == text.split()


def test_a_script_without_words_is_empty(tmp_path):
    with pytest.raises(EmptyScript):
        get_voice_engine("festival").speak(' ;;; "" ()  ', [], str(tmp_path / "x.wav"))


def test_unknown_voice_engine_names_the_known_ones():
    with pytest.raises(ValueError, match="festival"):
        get_voice_engine("nonexistent")


def test_a_voice_sample_with_speech_is_measured(speech):
    report = inspect_voice_sample(speech.wav_path)
    assert report.sample_rate == 32000 and report.channels == 1
    assert abs(report.seconds - speech.seconds) < 0.01
    assert 1.0 < report.speech_seconds <= report.seconds
    assert 0.05 < report.peak <= 1.0
    assert -40 < report.rms_dbfs < -5


def test_garbage_is_corrupt_audio(garbage_file):
    with pytest.raises(CorruptAudio):
        inspect_voice_sample(garbage_file)


def test_an_empty_file_is_corrupt_audio(empty_file):
    with pytest.raises(CorruptAudio, match="empty"):
        inspect_voice_sample(empty_file)


def test_silence_is_refused(silence_wav):
    with pytest.raises(SilentAudio):
        inspect_voice_sample(silence_wav)


def test_a_short_recording_is_refused_with_the_minimum(short_speech_wav):
    with pytest.raises(AudioTooShort, match="at least 1 s"):
        inspect_voice_sample(short_speech_wav, min_seconds=1.0)
    assert inspect_voice_sample(short_speech_wav, min_seconds=0.5).seconds == pytest.approx(0.6)


def test_a_sentence_with_a_quote_never_reaches_festival_even_without_asserts(tmp_path):
    # A check, not an assert (python -O drops asserts): a quote would let the text write Scheme.
    from engine.errors import EngineError
    from engine.voice.festival import Chunk, _scheme_script

    with pytest.raises(EngineError, match="quote or backslash"):
        _scheme_script([Chunk('Hello" (system "true")')], tmp_path)
