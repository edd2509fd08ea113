"""Footage avatars on real footage: President Obama's weekly addresses (White House videos, public
domain; tests/data/footage, see MODELS.md). The avatar is made from four sentences; the fifth is
held out and rendered from its own sound, then compared with the real frames, measured with dlib
(bench.face_footage), not with the engine's own landmarks."""

import numpy as np
import pytest

from bench.face_footage import AVATAR, HELD_OUT, Measurer, mouth_crop, render, video_frames
from bench.face_quality import loudness, mouth_opening
from engine.audio import read_wav
from engine.errors import FootageHasCuts
from engine.face import get_face_engine
from engine.face.footage import check_footage, footage_audio, still_frame
from engine.face.rewrite import analyse_footage, recognise_phones


@pytest.fixture(scope="module")
def measurer():
    return Measurer()


@pytest.fixture(scope="module")
def footage_engine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weekly-address")
    analyse_footage(AVATAR, folder)
    return get_face_engine("footage", footage_path=str(AVATAR), analysis_dir=str(folder))


@pytest.fixture(scope="module")
def held_out(tmp_path_factory, footage_engine):
    """The real held-out frames, and the footage avatar's frames for the same sound."""
    wav = footage_audio(HELD_OUT, tmp_path_factory.mktemp("held-out") / "sound.wav")
    real = video_frames(HELD_OUT)
    phones = recognise_phones(wav)
    rendered, _ = render(footage_engine, "", [], wav, phones, len(real))
    return real, rendered


def test_one_continuous_sentence_passes_the_checks():
    report = check_footage(HELD_OUT, min_seconds=1)
    assert report.has_audio and report.fps == 25


def test_sentences_cut_together_are_refused_at_the_first_cut():
    with pytest.raises(FootageHasCuts, match=r"cut at 4\.3 s"):
        check_footage(AVATAR, min_seconds=1)


def test_the_still_frame_is_the_speaker_of_the_held_out_sentence(measurer):
    still = measurer.embedding(still_frame(AVATAR))
    real = measurer.embedding(np.ascontiguousarray(video_frames(HELD_OUT)[30]))
    assert np.linalg.norm(still - real) < 0.6


def test_mouths_from_the_footage_are_closer_to_the_real_ones_than_a_still_mouth(held_out, measurer):
    """The mouth at 64x32 px around dlib's mouth points, grey levels: the footage avatar's
    against the real frames' (measured 20.1), the footage's still against them (25.7)."""
    real, rendered = held_out
    still = still_frame(AVATAR)
    still_mouth = mouth_crop(still, measurer.landmarks(still))
    ours, stills = [], []
    for made, true in zip(rendered, real, strict=True):
        mine, theirs = measurer.landmarks(made), measurer.landmarks(np.ascontiguousarray(true))
        if mine is None or theirs is None:
            continue
        ours.append(np.abs(mouth_crop(made, mine) - mouth_crop(true, theirs)).mean())
        stills.append(np.abs(still_mouth - mouth_crop(true, theirs)).mean())
    assert len(ours) > 0.9 * len(real)
    assert np.mean(ours) < np.mean(stills) - 2.0


def test_the_footage_avatar_opens_its_mouth_with_festival_speech(footage_engine, speech, measurer):
    frames, _ = render(footage_engine, "", [], speech.wav_path, speech.phonemes)
    samples, rate = read_wav(speech.wav_path)
    loud = loudness(samples, rate, len(frames), 25)
    points = [measurer.landmarks(f) for f in frames]
    seen = [i for i, p in enumerate(points) if p is not None]
    opening = np.array([mouth_opening(points[i]) for i in seen])
    assert len(seen) > 0.9 * len(frames)
    assert np.corrcoef(opening, loud[seen])[0, 1] > 0.35
