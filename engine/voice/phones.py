"""Phone labels of speech frames, so the conversion can match a sound with the same sound.

Both sides are labelled in one inventory, ARPAbet as the CMU dictionary writes it (``PHONES``):
- the TTS side from festival's own segment times (radio phones, mapped by ``FESTIVAL_PHONES``);
- the subject's samples by forced alignment, once, when the voice profile is made: silero-vad
  cuts the recording into stretches of speech, Moonshine (``engine.voice.intelligibility``)
  hears their words and pocketsphinx (en-us acoustic model and CMU dictionary inside its wheel,
  BSD) aligns those words' phones to the audio. The avatar's sample is free reading with no
  transcript, hence the recogniser; a word the dictionary lacks is left out of the alignment,
  and its frames go to the neighbouring phones.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.audio import resampled
from engine.voice.enrollment import speech_segments
from engine.voice.intelligibility import transcribe_samples, words_of

# The CMU dictionary's 39 phones (its vowels without stress marks).
_ARPABET = (
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V "
    "W Y Z ZH"
)
PHONES = tuple(_ARPABET.split())
PHONE_INDEX = {phone: i for i, phone in enumerate(PHONES)}
UNLABELLED = -1
# festival's radio phone set -> ARPAbet: the same symbols in lower case, except the reduced
# vowel and the syllabic consonants, which the CMU dictionary writes with their full phones.
FESTIVAL_PHONES = {phone.lower(): phone for phone in PHONES} | {
    "ax": "AH",
    "axr": "ER",
    "el": "L",
    "em": "M",
    "en": "N",
}
# Sounds made alike (place and manner), the fallback when the subject never said a phone.
BROAD_CLASSES = {
    "front vowel": "IY IH EY EH AE",
    "back vowel": "AA AO AH OW UH UW",
    "diphthong": "AY AW OY",
    "rhotic and lateral": "ER R L",
    "glide": "W Y",
    "nasal": "M N NG",
    "voiced stop": "B D G",
    "voiceless stop": "P T K",
    "voiced fricative": "V DH Z ZH JH",
    "voiceless fricative": "F TH S SH HH CH",
}
PHONE_CLASS = np.full(len(PHONES), UNLABELLED, dtype=np.int8)
for _class, (_name, _members) in enumerate(BROAD_CLASSES.items()):
    PHONE_CLASS[[PHONE_INDEX[p] for p in _members.split()]] = _class

ALIGN_RATE = 16000
ALIGN_FRAME_S = 0.01  # pocketsphinx's frame
MAX_STRETCH_S = 20.0  # Moonshine hears up to about 30 s at once
STRETCH_GAP_S = 0.5  # stretches of speech closer than this are heard together
STRETCH_PAD_S = 0.1  # silence kept around a stretch (the aligner starts and ends in silence)


def frame_phones(timings: Sequence[tuple[str, float, float]], frames: int, frame_s: float):
    """Per analysis frame (frame i at i * ``frame_s`` seconds) the index in ``PHONES`` of the
    phone whose span holds it, ``UNLABELLED`` where none does. Labels festival or ARPAbet."""
    labels = np.full(frames, UNLABELLED, dtype=np.int8)
    for label, start, end in timings:
        phone = FESTIVAL_PHONES.get(label.lower())
        if phone is None:  # silence, breath, noise
            continue
        first = max(0, int(np.ceil(start / frame_s - 1e-9)))
        last = min(frames, int(np.ceil(end / frame_s - 1e-9)))
        labels[first:last] = PHONE_INDEX[phone]
    return labels


def align_phones(samples: np.ndarray, rate: int) -> list[tuple[str, float, float]]:
    """(ARPAbet phone, start, end seconds) of the speech in mono float ``samples``: the words
    Moonshine hears, force-aligned by pocketsphinx. Empty when no word is heard."""
    audio = resampled(samples, rate, ALIGN_RATE)
    decoder = None
    timings: list[tuple[str, float, float]] = []
    for start, end in _stretches(speech_segments(audio, ALIGN_RATE), len(audio) / ALIGN_RATE):
        piece = audio[round(start * ALIGN_RATE) : round(end * ALIGN_RATE)]
        words = words_of(transcribe_samples(piece, ALIGN_RATE))
        if decoder is None:
            decoder = _decoder()
        known = [w for w in words if decoder.lookup_word(w)]
        if known:
            timings += [(p, start + s, start + e) for p, s, e in _aligned(decoder, piece, known)]
    return timings


def _stretches(segments: list[tuple[float, float]], seconds: float) -> list[tuple[float, float]]:
    """Speech segments joined across short gaps, at most MAX_STRETCH_S long, padded."""
    joined: list[list[float]] = []
    for start, end in segments:
        if joined and start - joined[-1][1] < STRETCH_GAP_S and end - joined[-1][0] < MAX_STRETCH_S:
            joined[-1][1] = end
        else:
            joined.append([start, end])
    return [
        (max(0.0, s - STRETCH_PAD_S), min(seconds, min(e, s + MAX_STRETCH_S) + STRETCH_PAD_S))
        for s, e in joined
    ]


def _decoder():
    from pocketsphinx import Decoder

    return Decoder(lm=None, samprate=ALIGN_RATE, bestpath=False, loglevel="ERROR")


def _aligned(decoder, audio: np.ndarray, words: list[str]) -> list[tuple[str, float, float]]:
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
    try:
        decoder.set_align_text(" ".join(words))
        _decode(decoder, pcm)  # finds the words
        decoder.set_alignment()
        _decode(decoder, pcm)  # finds their phones and states
        alignment = decoder.get_alignment()
    except RuntimeError:  # no path through the words: leave this stretch unlabelled
        return []
    if alignment is None:
        return []
    return [
        (phone.name, phone.start * ALIGN_FRAME_S, (phone.start + phone.duration) * ALIGN_FRAME_S)
        for word in alignment
        for phone in word
        if phone.name in PHONE_INDEX
    ]


def _decode(decoder, pcm: bytes) -> None:
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
