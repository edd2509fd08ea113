"""Starting voices: the installed TTS voice nearest the subject, and speech re-timed onto
festival's timeline, measured on the audio the engine writes."""

import numpy as np
import pytest

from engine.audio import frame_levels_db, read_wav, write_wav
from engine.errors import EngineError
from engine.voice.festival import script_chunks, synthesize
from engine.voice.intelligibility import transcribe_samples, word_error_rate
from engine.voice.profile import (
    FRAME_MS,
    RATE,
    WorldFrames,
    compute_voice_profile,
    voice_profile_of_samples,
)
from engine.voice.starting import (
    flite_phone_times,
    frames_on_timeline,
    installed_starting_voices,
    nearest_starting_voice,
    starting_voices_named,
)
from engine.voice.world import WorldVoice, festival_profile, subject_speed
from tests.voice_media import HELD_OUT_ENROLL_SENTENCES, sentences, wav

TEXT = "Help the woman get back to her feet. [pause 0.8s] Smoky fires lack flame."


def profile_of(voice, texts=HELD_OUT_ENROLL_SENTENCES):
    return voice_profile_of_samples(
        [(sentences(voice, texts), RATE)], with_embedding=False, with_phones=False
    )


def test_every_starting_voice_is_chosen_for_its_own_speech():
    # Sentences none of the starting voices' profiles was measured on (the Rainbow Passage).
    voices = installed_starting_voices()
    assert {v.name for v in voices} >= {"slt", "awb", "rms"}
    for voice in voices:
        assert nearest_starting_voice(profile_of(voice.name), voices) == voice


def test_a_female_subject_starts_from_a_female_voice_and_a_male_from_a_male():
    voices = installed_starting_voices()
    assert nearest_starting_voice(profile_of("espeak-f3"), voices).sex == "female"
    assert nearest_starting_voice(profile_of("ked"), voices).sex == "male"


def test_an_unknown_starting_voice_is_refused_with_the_installed_ones():
    with pytest.raises(EngineError, match="Unknown starting voice nobody; installed: slt"):
        starting_voices_named(["slt", "nobody"])


def test_flite_phone_times_run_on_across_its_utterances():
    phones = flite_phone_times("pau:0.1 hh:0.3 ay:0.5 pau:0.6\npau:0.2 ow:0.4 pau:0.5\n")
    assert [p for p, _, _ in phones] == ["pau", "hh", "ay", "pau", "pau", "ow", "pau"]
    assert phones[4] == ("pau", 0.6, pytest.approx(0.8))
    assert phones[-1][2] == pytest.approx(1.1)
    assert all(start < end for _, start, end in phones)


def test_frames_follow_the_timeline_phone_by_phone():
    frame_s = FRAME_MS / 1000.0
    count = 200  # one second of source frames; each frame's F0 says when it was (100 + ms / 10)
    source = WorldFrames(
        f0=100.0 + np.arange(count) * FRAME_MS / 10.0,
        envelope=np.ones((count, 513)),
        aperiodicity=np.full((count, 513), 0.5),
    )
    phones = [("pau", 0.0, 0.2), ("ah", 0.2, 0.4), ("s", 0.4, 0.9), ("pau", 0.9, 1.0)]
    # festival says the same phones, "ah" three times as long and "s" a fifth as long
    timeline = [("pau", 0.0, 0.1), ("ah", 0.1, 0.7), ("s", 0.7, 0.8), ("pau", 0.8, 1.2)]
    out = frames_on_timeline(source, phones, timeline, round(1.2 / frame_s) + 1)

    def source_seconds(at):
        return (out.f0[round(at / frame_s)] - 100.0) / 100.0

    assert source_seconds(0.4) == pytest.approx(0.3, abs=0.006)  # middle of "ah" to its middle
    assert source_seconds(0.75) == pytest.approx(0.65, abs=0.006)  # middle of "s"
    assert np.all(out.f0[: round(0.1 / frame_s)] == 0)  # pauses are silent
    assert np.all(out.f0[round(0.8 / frame_s) + 1 :] == 0)


@pytest.fixture(scope="module")
def male_subject(tmp_path_factory):
    """festival's ked (a held-out male voice, not a starting voice) enrolled as a subject."""
    folder = tmp_path_factory.mktemp("ked")
    sample = wav(folder / "ked.wav", sentences("ked", HELD_OUT_ENROLL_SENTENCES))
    profile = folder / "ked.npz"
    compute_voice_profile([sample], with_embedding=False).save(profile)
    return str(sample), str(profile)


@pytest.fixture(scope="module")
def from_a_male_voice(male_subject, tmp_path_factory):
    sample, profile = male_subject
    out = tmp_path_factory.mktemp("speech") / "ked.wav"
    return WorldVoice().speak(TEXT, [sample], str(out), voice_profile_path=profile)


def test_a_male_subject_is_spoken_from_a_flite_male_voice(from_a_male_voice):
    assert from_a_male_voice.starting_voice in {"awb", "rms"}


def test_speech_from_another_voice_keeps_festivals_word_and_phone_timings(
    male_subject, from_a_male_voice, tmp_path
):
    from engine.voice.profile import VoiceProfile

    target = VoiceProfile.load(male_subject[1])
    speed = subject_speed(festival_profile(), target)
    festival = synthesize(script_chunks(TEXT, speed=speed), str(tmp_path / "festival.wav"))
    assert from_a_male_voice.words == festival.words
    assert from_a_male_voice.phonemes == festival.phonemes
    samples, rate = read_wav(from_a_male_voice.wav_path)
    assert from_a_male_voice.seconds == pytest.approx(len(samples) / rate)
    assert from_a_male_voice.seconds == pytest.approx(festival.seconds, abs=0.01)


def test_speech_from_another_voice_is_silent_in_the_pause_and_heard_as_its_text(
    from_a_male_voice,
):
    speech = from_a_male_voice
    samples, rate = read_wav(speech.wav_path)
    feet_end = next(e for w, _, e in speech.words if w == "feet")
    smoky_start = next(s for w, s, _ in speech.words if w == "Smoky")
    assert smoky_start - feet_end >= 0.8
    gap = samples[round((feet_end + 0.2) * rate) : round((smoky_start - 0.1) * rate)]
    assert frame_levels_db(gap, rate, 0.02).max() < -50
    for word, start, end in speech.words:  # every word has speech where festival put it
        level = frame_levels_db(samples[round(start * rate) : round(end * rate)], rate, 0.02)
        assert level.max() > -40, word  # the pause is below -50
    said = "Help the woman get back to her feet. Smoky fires lack flame."
    assert word_error_rate(said, transcribe_samples(samples, rate)) <= 0.25


def test_a_phone_band_sample_has_a_narrow_band_and_a_true_pitch(tmp_path):
    from scipy.signal import butter, resample_poly, sosfilt

    full = sentences("rms", HELD_OUT_ENROLL_SENTENCES)
    narrow = sosfilt(butter(4, 300, "highpass", fs=8000, output="sos"), resample_poly(full, 1, 2))
    write_wav(tmp_path / "phone.wav", narrow, 8000)
    phone = compute_voice_profile([tmp_path / "phone.wav"], with_embedding=False)
    wide = profile_of("rms")
    assert phone.bandwidth_hz < 5000 < 7000 < wide.bandwidth_hz
    assert phone.f0_hz == pytest.approx(wide.f0_hz, rel=0.08)
    assert phone.f0_log_std == pytest.approx(wide.f0_log_std, abs=0.05)


def band_levels_db(samples, rate):
    """Level (dB) of the speech's long-term spectrum below 300 Hz and at 4.5-7 kHz, each
    relative to 0.3-3 kHz."""
    from scipy.signal import welch

    hz, power = welch(samples, rate, nperseg=1024)

    def level(lo, hi):
        return 10 * np.log10(power[(hz >= lo) & (hz < hi)].mean())

    middle = level(300, 3000)
    return level(60, 300) - middle, level(4500, 7000) - middle


def test_speech_toward_a_phone_band_subject_keeps_the_whole_band(tmp_path):
    from scipy.signal import butter, resample_poly, sosfilt

    full = sentences("ked", HELD_OUT_ENROLL_SENTENCES)
    narrow = sosfilt(butter(4, 300, "highpass", fs=8000, output="sos"), resample_poly(full, 1, 2))
    write_wav(tmp_path / "phone.wav", narrow, 8000)
    sample = tmp_path / "phone.wav"
    speech = WorldVoice().speak(
        "Help the woman get back to her feet.", [str(sample)], str(tmp_path / "o.wav")
    )
    samples, rate = read_wav(speech.wav_path)
    low, high = band_levels_db(samples, rate)
    narrow_low, _ = band_levels_db(narrow, 8000)  # the phone line's copy has no 4.5-7 kHz
    # Neither band edge is copied into the output. Its top band: -36 dB (-50 when the spectrum
    # match held the band's own roll-off; ked's full-band voice -23); its lowest band above the
    # phone line's (the subject's recording has no lowest octave, the output keeps its own)
    assert high > -42
    assert low > narrow_low + 3
