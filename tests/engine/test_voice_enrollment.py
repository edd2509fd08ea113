"""Enrollment checks and the voice profile, measured on real speech the tests make."""

import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import resample_poly

from engine.errors import CorruptAudio, SilentAudio
from engine.voice.enrollment import (
    ClippedAudio,
    EchoingRoom,
    LowSampleRate,
    NoisyAudio,
    SeveralSpeakers,
    TooLittleSpeech,
    check_enrollment_sample,
)
from engine.voice.phones import UNLABELLED
from engine.voice.profile import VoiceProfile, compute_voice_profile
from tests.voice_media import ENROLL_SENTENCES, RATE, sentences, wav


@pytest.fixture(scope="module")
def slt(tmp_path_factory):
    samples = sentences("slt", ENROLL_SENTENCES)
    return samples, wav(tmp_path_factory.mktemp("enroll") / "slt.wav", samples)


@pytest.fixture(scope="module")
def awb(tmp_path_factory):
    samples = sentences("awb", ENROLL_SENTENCES)
    return samples, wav(tmp_path_factory.mktemp("enroll") / "awb.wav", samples)


def test_a_clean_sample_of_one_voice_passes_with_its_measurements(slt):
    report = check_enrollment_sample(slt[1])
    assert report.sample_rate == RATE
    assert 12.0 < report.speech_seconds <= report.seconds
    assert report.clipped_fraction == 0.0
    assert report.snr_db > 40
    assert report.speaker_consistency > 0.75


def test_too_little_speech_is_refused_with_the_minimum(slt, tmp_path):
    short = wav(tmp_path / "short.wav", slt[0][: 3 * RATE])
    with pytest.raises(TooLittleSpeech, match="record at least 5 s of speech"):
        check_enrollment_sample(short, min_speech_seconds=5)


def phone_band(samples):
    """16 kHz speech as a phone line carries it: 8 kHz, nothing under 300 Hz."""
    from scipy.signal import butter, sosfilt

    narrow = resample_poly(samples, 1, 2)
    return sosfilt(butter(4, 300, "highpass", fs=8000, output="sos"), narrow).astype(np.float32)


def test_a_phone_band_recording_is_accepted_with_a_note_on_its_bandwidth(awb, tmp_path):
    report = check_enrollment_sample(wav(tmp_path / "8k.wav", phone_band(awb[0]), 8000))
    assert report.sample_rate == 8000
    assert 3500 <= report.bandwidth_hz <= 4000
    assert len(report.notes) == 1 and "up to 4.0 kHz only" in report.notes[0]


def test_a_phone_call_saved_at_16_khz_is_still_narrow_band(awb, tmp_path):
    widened = resample_poly(phone_band(awb[0]), 2, 1).astype(np.float32)
    report = check_enrollment_sample(wav(tmp_path / "call.wav", widened))
    assert report.bandwidth_hz < 5000 and report.notes


def test_a_full_band_recording_has_no_note(slt):
    report = check_enrollment_sample(slt[1])
    assert report.bandwidth_hz > 7500 and report.notes == []


def test_a_recording_below_8_khz_is_refused(slt, tmp_path):
    narrow = wav(tmp_path / "6k.wav", resample_poly(slt[0], 3, 8).astype(np.float32), 6000)
    with pytest.raises(LowSampleRate, match="6000 Hz; record at 8 kHz or more"):
        check_enrollment_sample(narrow)


def in_a_room(samples, rt60):
    """``samples`` as a microphone a little away from the speaker hears them in a room whose
    reverberation time is ``rt60`` seconds (direct sound plus exponentially decaying noise)."""
    from scipy.signal import fftconvolve

    t = np.arange(round(1.5 * rt60 * RATE)) / RATE
    response = np.random.default_rng(0).standard_normal(len(t)) * np.exp(-6.9 * t / rt60)
    response[0] = 8.0
    wet = fftconvolve(samples, response)[: len(samples)]
    return (0.5 * wet / np.max(np.abs(wet))).astype(np.float32)


@pytest.mark.parametrize("voice", ["slt", "awb"])
def test_an_echoing_room_is_refused_with_how_long_speech_rings(voice, slt, awb, tmp_path):
    samples = {"slt": slt, "awb": awb}[voice][0]
    with pytest.raises(EchoingRoom, match=r"takes about 0\.7 s to die away"):
        check_enrollment_sample(wav(tmp_path / "hall.wav", in_a_room(samples, 0.6)))


@pytest.mark.parametrize("voice", ["slt", "awb"])
def test_a_furnished_room_passes_and_its_reverberation_is_measured(voice, slt, awb, tmp_path):
    samples = {"slt": slt, "awb": awb}[voice][0]
    dry = check_enrollment_sample(wav(tmp_path / "dry.wav", samples))
    room = check_enrollment_sample(wav(tmp_path / "room.wav", in_a_room(samples, 0.3)))
    assert dry.reverberation_seconds < room.reverberation_seconds < 0.5


def test_a_clipped_recording_is_refused(slt, tmp_path):
    loud = wav(tmp_path / "loud.wav", np.clip(slt[0] * 8, -1, 1))
    with pytest.raises(ClippedAudio, match="clipped"):
        check_enrollment_sample(loud)


def test_a_noisy_room_is_refused(slt, tmp_path):
    hiss = 0.03 * np.random.default_rng(0).standard_normal(len(slt[0]))
    noisy = wav(tmp_path / "noisy.wav", slt[0] + hiss.astype(np.float32))
    with pytest.raises(NoisyAudio, match="quieter room"):
        check_enrollment_sample(noisy)


def test_two_people_in_one_sample_are_refused(slt, awb, tmp_path):
    half = len(slt[0]) // 2
    both = wav(tmp_path / "both.wav", np.concatenate([slt[0][:half], awb[0][half:]]))
    with pytest.raises(SeveralSpeakers, match="subject alone"):
        check_enrollment_sample(both)


def test_silence_is_refused(tmp_path):
    with pytest.raises(SilentAudio):
        check_enrollment_sample(wav(tmp_path / "silence.wav", np.zeros(RATE * 6, np.float32)))


def test_a_profile_measures_pitch_and_survives_saving(slt, awb, tmp_path):
    female, male = compute_voice_profile([slt[1]]), compute_voice_profile([awb[1]])
    assert 150 < female.f0_hz < 220 and 90 < male.f0_hz < 150
    assert 3.0 < female.speaking_rate < 7.0
    assert np.linalg.norm(female.embedding) == pytest.approx(1.0, abs=0.01)
    female.save(tmp_path / "p.npz")
    loaded = VoiceProfile.load(tmp_path / "p.npz")
    assert loaded.summary() == female.summary()
    assert np.allclose(loaded.cepstra, female.cepstra, atol=1e-4)
    assert (loaded.voiced == female.voiced).all()
    assert np.allclose(loaded.aperiodicity_db, female.aperiodicity_db, atol=1e-3)
    assert np.allclose(loaded.spectrum_db, female.spectrum_db, atol=1e-3)
    assert (loaded.phones == female.phones).all()


def test_a_profile_labels_most_voiced_frames_with_their_phone(awb):
    profile = compute_voice_profile([awb[1]], with_embedding=False)
    assert len(profile.phones) == len(profile.cepstra)
    assert (profile.phones[profile.voiced] != UNLABELLED).mean() > 0.8
    assert len(set(profile.phones[profile.voiced]) - {UNLABELLED}) > 20  # many sounds, not one


def test_a_profile_saved_before_breathiness_was_measured_still_loads(slt, tmp_path):
    profile = compute_voice_profile([slt[1]], with_embedding=False, with_phones=False)
    profile.aperiodicity_db = profile.spectrum_db = None
    profile.version = 1
    profile.save(tmp_path / "old.npz")
    loaded = VoiceProfile.load(tmp_path / "old.npz")
    assert loaded.aperiodicity_db is None and loaded.spectrum_db is None
    assert loaded.summary() == profile.summary()


def test_a_profile_saved_before_phones_were_aligned_still_loads(slt, tmp_path):
    profile = compute_voice_profile([slt[1]], with_embedding=False, with_phones=False)
    profile.version = 2
    profile.save(tmp_path / "v2.npz")
    loaded = VoiceProfile.load(tmp_path / "v2.npz")
    assert loaded.phones is None and loaded.version == 2
    assert np.allclose(loaded.spectrum_db, profile.spectrum_db, atol=1e-3)


FOOTAGE = Path(__file__).resolve().parent.parent / "data/footage/weekly-address-avatar.mp4"


def footage_with_sound(out: Path, *audio_args: str) -> str:
    """The test footage (13 s of one man speaking) with its sound stored by ``audio_args``."""
    command = ["ffmpeg", "-v", "error", "-y", "-nostdin", "-i", str(FOOTAGE), "-c:v", "copy"]
    subprocess.run([*command, *audio_args, str(out)], check=True)
    return str(out)


def test_a_voice_is_enrolled_from_footage_or_a_consent_clip_at_its_recorded_rate(tmp_path):
    footage = check_enrollment_sample(str(FOOTAGE))
    assert footage.sample_rate == 16000 and footage.speech_seconds > 8
    # A clip as a browser records it: Opus at 48 kHz in a Matroska/WebM container.
    clip = footage_with_sound(tmp_path / "clip.mkv", "-c:a", "libopus", "-ar", "48000")
    assert check_enrollment_sample(clip).sample_rate == 48000


def test_footage_with_phone_band_or_no_sound_says_so(tmp_path):
    phone = footage_with_sound(tmp_path / "phone.mov", "-c:a", "pcm_s16le", "-ar", "8000")
    report = check_enrollment_sample(phone)
    assert report.sample_rate == 8000 and report.bandwidth_hz < 4500
    assert any("up to 4." in note for note in report.notes)
    low = footage_with_sound(tmp_path / "low.mov", "-c:a", "pcm_s16le", "-ar", "4000")
    with pytest.raises(LowSampleRate, match="made at 4000 Hz; record at 8 kHz or more"):
        check_enrollment_sample(low)
    mute = footage_with_sound(tmp_path / "mute.mp4", "-an")
    with pytest.raises(CorruptAudio, match=r"mute\.mp4 has no sound to take a voice from"):
        check_enrollment_sample(mute)
