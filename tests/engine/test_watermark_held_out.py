"""The audio mark on voices its detector was never tuned on.

Every setting of ``engine.watermark.audio`` (strength, sync share, noise floor, sync threshold)
was chosen on festival slt speech. Here the hosts are the held-out voices (festival ked, espeak-ng
en-us+f3: ``tests.voice_media``), flite's rms (a recorded CMU ARCTIC speaker the mark never saw)
and festival speech converted toward ked, which is what a render marks, read back through the
degradations ``test_watermark`` uses.
"""

import subprocess

import numpy as np
import pytest

from engine.audio import pad_with_silence, read_wav, write_wav
from engine.voice.conversion import convert_voice
from engine.voice.festival import script_chunks, synthesize
from engine.voice.profile import voice_profile_of_samples
from engine.voice.world import festival_profile
from engine.watermark import detect_audio, embed_audio, read_audio_mark
from engine.watermark.audio import SYNC_THRESHOLD
from tests.voice_media import (
    HELD_OUT_ENROLL_SENTENCES,
    HELD_OUT_SENTENCES,
    HELD_OUT_VOICES,
    RATE,
    sentences,
    spoken,
)

HOSTS = [*HELD_OUT_VOICES, "rms", "converted-ked"]
ATTACKS = {
    "aac64k": ["-c:a", "aac", "-b:a", "64k", "x.m4a"],
    "mp3-128k": ["-c:a", "libmp3lame", "-b:a", "128k", "x.mp3"],
    "resample22k": ["-ar", "22050", "x.wav"],
    "trim3s": ["-ss", "1.1", "-t", "3", "-c:a", "aac", "-b:a", "64k", "x.m4a"],
}


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-nostdin", *args], check=True)


def host_speech(host: str, folder) -> np.ndarray:
    """About 7 s of speech: three sentences of a held-out voice, or festival converted to ked."""
    if host != "converted-ked":
        return sentences(host, HELD_OUT_SENTENCES)
    enrollment = sentences("ked", HELD_OUT_ENROLL_SENTENCES[:4])
    target = voice_profile_of_samples([(enrollment, RATE)], with_embedding=False, with_phones=False)
    speech = synthesize(script_chunks(" ".join(HELD_OUT_SENTENCES)), str(folder / "festival.wav"))
    samples, rate = read_wav(speech.wav_path)
    return convert_voice(samples, rate, source=festival_profile(), target=target)


@pytest.fixture(scope="module", params=HOSTS)
def host(request, tmp_path_factory):
    """(name, folder with plain.wav and marked.wav, payload) for each held-out host."""
    folder = tmp_path_factory.mktemp(request.param)
    samples = host_speech(request.param, folder)
    payload = int(np.random.default_rng(HOSTS.index(request.param)).integers(0, 2**32))
    write_wav(folder / "plain.wav", samples, RATE)
    write_wav(folder / "marked.wav", embed_audio(samples, RATE, payload), RATE)
    return request.param, folder, payload


def test_the_audio_mark_is_quiet_under_held_out_speech(host):
    _, folder, _ = host
    plain, _ = read_wav(folder / "plain.wav")
    marked, _ = read_wav(folder / "marked.wav")
    assert 10 * np.log10(np.sum(plain**2) / np.sum((marked - plain) ** 2)) > 20.0


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_the_audio_payload_survives_an_attack_on_held_out_speech(host, attack, tmp_path):
    _, folder, payload = host
    out = tmp_path / attack[-1]
    ffmpeg("-i", str(folder / "marked.wav"), *attack[:-1], str(out))
    mark = read_audio_mark(out)
    assert mark.payload == payload and mark.confidence > 0.3, mark


def test_the_audio_payload_survives_noise_at_20_db_on_held_out_speech(host):
    _, folder, payload = host
    samples, rate = read_wav(folder / "marked.wav")
    noise = np.random.default_rng(5).normal(0, np.sqrt(np.mean(samples**2) / 100), samples.shape)
    assert detect_audio(samples + noise, rate).payload == payload


@pytest.mark.parametrize("attack", [None, ATTACKS["aac64k"]], ids=["wav", "aac64k"])
def test_unmarked_held_out_speech_shows_no_mark(host, attack, tmp_path):
    _, folder, _ = host
    path = folder / "plain.wav"
    if attack:
        path = tmp_path / attack[-1]
        ffmpeg("-i", str(folder / "plain.wav"), *attack[:-1], str(path))
    mark = read_audio_mark(path)
    assert mark.payload is None and mark.sync_score < SYNC_THRESHOLD, mark


@pytest.mark.parametrize("voice", HELD_OUT_VOICES)
def test_a_one_line_held_out_render_keeps_its_payload_through_aac_64k(voice, tmp_path):
    """Under 2 s of speech in 0.4 s and 0.6 s of silence: every one of 8 payloads reads back."""
    samples = pad_with_silence(spoken(voice, "Hi Sam. Welcome aboard."), RATE, 0.4, 0.6)
    read = []
    for payload in np.random.default_rng(11).integers(0, 2**32, size=8):
        write_wav(tmp_path / "marked.wav", embed_audio(samples, RATE, int(payload)), RATE)
        ffmpeg(
            "-i",
            str(tmp_path / "marked.wav"),
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            str(tmp_path / "x.m4a"),
        )
        read.append((int(payload), read_audio_mark(tmp_path / "x.m4a").payload))
    assert all(sent == got for sent, got in read), read
