"""Consent fixtures: invitations made through the service, and consent clips the tests make
(a still face + festival speech of the sentence, encoded like a browser's MediaRecorder)."""

import subprocess
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from consent import services
from consent.models import ConsentDocument, Purpose
from tests.factories import SubjectFactory
from tests.liveness_media import say
from tests.media import write_webm


def write_clip(out: Path, face_rgb: np.ndarray | None, audio: Path | None, seconds: float = 4):
    """A VP8/Opus WebM like Chromium's MediaRecorder writes; no video stream without a face."""
    image = None
    if face_rgb is not None:
        image = out.with_suffix(".png")
        Image.fromarray(face_rgb).save(image)
    return write_webm(out, image=image, audio=audio, seconds=seconds, blank_video=False)


@pytest.fixture(scope="session")
def drawn_face_rgb(tmp_path_factory) -> np.ndarray:
    """The engine's drawn demo presenter: a face dlib finds, but not the astronaut's."""
    from engine.demo import write_demo_assets

    assets = write_demo_assets(tmp_path_factory.mktemp("demo"))
    return np.asarray(Image.open(assets.portrait_path).convert("RGB"))


@pytest.fixture(scope="session")
def clip_maker(tmp_path_factory):
    """clip_maker(sentence, face) → bytes of a consent clip; `face` is an RGB array or None."""
    folder = tmp_path_factory.mktemp("clips")
    made: dict = {}

    def make(sentence: str | None, face_rgb: np.ndarray | None, seconds: float = 0) -> bytes:
        key = (sentence, None if face_rgb is None else face_rgb.tobytes()[:4096].hex(), seconds)
        if key not in made:
            index = len(made)
            audio = say(sentence, folder / f"say-{index}.wav") if sentence else None
            length = seconds or (
                float(
                    subprocess.run(
                        [
                            "ffprobe",
                            "-v",
                            "error",
                            "-show_entries",
                            "format=duration",
                            "-of",
                            "csv=p=0",
                            str(audio),
                        ],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                )
                if audio
                else 4
            )
            made[key] = write_clip(
                folder / f"clip-{index}.webm", face_rgb, audio, length
            ).read_bytes()
        return made[key]

    return make


@pytest.fixture
def invite(member, portrait_png, speech_wav):
    """invite(**scope) → (grant, token): an invitation made by `member` with the astronaut's
    photo and festival's voice as references."""

    def make(**scope):
        now = timezone.now()
        subject = SubjectFactory(workspace=member.workspace, full_name="Eileen Collins")
        defaults = {
            "purposes": [Purpose.INTERNAL.value, Purpose.TRAINING.value],
            "languages": ["en"],
            "channels": ["intranet"],
            "territory": "Worldwide",
            "valid_from": now - timedelta(minutes=1),
            "valid_until": now + timedelta(days=90),
            "forbidden_topics": ["politics"],
            "requires_script_approval": False,
            "compensation": "500 EUR a year",
        }
        return services.invite_subject(
            subject=subject,
            document=ConsentDocument.standard(),
            scope={**defaults, **scope},
            reference_portrait=SimpleUploadedFile("eileen.png", portrait_png),
            reference_voice=SimpleUploadedFile("eileen.wav", speech_wav),
            invited_by=member.user,
            evidence=services.Evidence(ip="192.0.2.1", user_agent="pytest", user="owner"),
        )

    return make


@pytest.fixture(scope="session")
def live_clips(tmp_path_factory):
    from tests.liveness_media import LiveClips

    return LiveClips(tmp_path_factory.mktemp("live"))


@pytest.fixture(scope="session")
def sentence_wav(tmp_path_factory):
    """sentence_wav(text) → a 48 kHz WAV of festival reading it, padded like a person reading."""
    folder = tmp_path_factory.mktemp("sentences")
    made: dict[str, Path] = {}

    def make(text: str) -> Path:
        if text not in made:
            made[text] = say(text, folder / f"sentence-{len(made)}.wav", pad_seconds=1.0)
        return made[text]

    return make


# The subject blinks this long after the page asks (a person's reaction time).
REACTION_SECONDS = 0.4


@pytest.fixture
def take(live_clips, sentence_wav, astronaut_rgb):
    """take(grant, sentence=None, face=None, **options) → bytes of a consent clip recorded the way
    the ceremony page records one: a live challenge is issued for the take first, and the face
    (the astronaut unless given) reads the sentence (the grant's unless given) and blinks when
    asked. `options` go to tests.liveness_media.live_clip (mode="still", blink_at=None...)."""

    def record(grant, sentence: str | None = None, face=None, **options) -> bytes:
        challenge = services.issue_liveness_challenge(grant)
        options.setdefault("blink_at", challenge["at_seconds"] + REACTION_SECONDS)
        wav = sentence_wav(sentence or grant.challenge_text)
        face = astronaut_rgb if face is None else face
        return live_clips.make(wav, face, **options).read_bytes()

    return record
