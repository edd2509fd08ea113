"""Phone labels for the conversion: festival's own segments and the aligned subject's samples."""

import numpy as np

from engine.audio import read_wav
from engine.voice.conversion import MIN_PHONE_FRAMES, _phone_groups
from engine.voice.festival import script_chunks, synthesize
from engine.voice.phones import (
    BROAD_CLASSES,
    FESTIVAL_PHONES,
    PHONE_INDEX,
    PHONES,
    UNLABELLED,
    align_phones,
    frame_phones,
)

FRAME_S = 0.01


def test_every_phone_belongs_to_one_broad_class():
    members = [p for group in BROAD_CLASSES.values() for p in group.split()]
    assert sorted(members) == sorted(PHONES)


def test_festivals_phones_map_into_the_inventory(tmp_path):
    speech = synthesize(
        script_chunks("The aroused bottle rolled over the lazy ox."), str(tmp_path / "f.wav")
    )
    for phone, _, _ in speech.phonemes:
        assert phone == "pau" or FESTIVAL_PHONES[phone] in PHONE_INDEX


def test_aligned_phones_of_speech_agree_with_the_phones_it_was_made_from(tmp_path):
    speech = synthesize(
        script_chunks(
            "Glue the sheet to the dark blue background. Rice is often served in round bowls."
        ),
        str(tmp_path / "f.wav"),
    )
    samples, rate = read_wav(speech.wav_path)
    frames = int(len(samples) / rate / FRAME_S)
    made = frame_phones(speech.phonemes, frames, FRAME_S)
    heard = frame_phones(align_phones(samples, rate), frames, FRAME_S)
    both = (made != UNLABELLED) & (heard != UNLABELLED)
    assert both.sum() > 0.8 * (made != UNLABELLED).sum()
    assert (made[both] == heard[both]).mean() > 0.6


def test_silence_has_no_phones():
    assert align_phones(np.zeros(16000 * 2, dtype=np.float32), 16000) == []


def test_a_frame_is_matched_among_the_same_phone_then_its_class_then_all():
    iy, ih, eh, zh = (PHONE_INDEX[p] for p in ("IY", "IH", "EH", "ZH"))
    bank = np.array([iy] * MIN_PHONE_FRAMES + [ih] * MIN_PHONE_FRAMES + [UNLABELLED] * 5)
    source = np.array([iy, eh, zh, UNLABELLED])
    among = {
        int(source[rows][0]): set(bank[candidates])
        for rows, candidates in _phone_groups(source, bank)
    }
    assert among[iy] == {iy}
    assert among[eh] == {iy, ih}  # the subject never said EH: the other front vowels
    assert among[zh] == among[UNLABELLED] == {iy, ih, UNLABELLED}  # no voiced fricative: all
