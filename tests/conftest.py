"""Shared fixtures: small media files made by the tests, and factories for real objects."""

import io
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def _png_bytes(rgb: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def astronaut_rgb() -> np.ndarray:
    """Eileen Collins, NASA portrait (public domain), shipped by scikit-image."""
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def portrait_png(astronaut_rgb) -> bytes:
    return _png_bytes(astronaut_rgb)


@pytest.fixture(scope="session")
def portrait_jpeg(astronaut_rgb) -> bytes:
    return _png_bytes(astronaut_rgb, "JPEG")


@pytest.fixture(scope="session")
def two_faces_png(astronaut_rgb) -> bytes:
    return _png_bytes(np.concatenate([astronaut_rgb, astronaut_rgb], axis=1))


@pytest.fixture(scope="session")
def no_face_png() -> bytes:
    rng = np.random.default_rng(3)
    sky = np.linspace(80, 200, 512, dtype=np.uint8)[:, None, None].repeat(512, 1).repeat(3, 2)
    return _png_bytes(np.clip(sky + rng.integers(0, 8, sky.shape), 0, 255).astype(np.uint8))


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory) -> bytes:
    """A few seconds of real speech from festival's slt voice (synthetic, BSD-style license)."""
    out = tmp_path_factory.mktemp("speech") / "sample.wav"
    text = "My name is Ada. I am recording this sample so that my voice can be recognised."
    subprocess.run(
        ["text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", str(out)],
        input=text.encode(),
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


def wav_bytes(samples: np.ndarray, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


@pytest.fixture(scope="session")
def silent_wav() -> bytes:
    return wav_bytes(np.zeros(16000 * 4))


@pytest.fixture(scope="session")
def portrait_landmarks(tmp_path_factory, portrait_png) -> list[list[float]]:
    from engine.face import inspect_portrait

    path = tmp_path_factory.mktemp("portrait") / "astronaut.png"
    path.write_bytes(portrait_png)
    return inspect_portrait(path).landmarks


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path) -> Path:
    """Each test writes its uploads and videos under its own temporary folder."""
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media)},
        },
    }
    return media


@pytest.fixture
def media_root(_private_media) -> Path:
    return _private_media


@pytest.fixture
def make_avatar(portrait_png, speech_wav, portrait_landmarks):
    """Build a real avatar (astronaut portrait, festival speech) with the given factory options."""
    from tests.factories import AvatarFactory

    def make(**options):
        return AvatarFactory(
            portrait_bytes=portrait_png,
            voice_bytes=speech_wav,
            face_landmarks=portrait_landmarks,
            **options,
        )

    return make


@pytest.fixture
def member(db):
    """An owner of one workspace, logged in through the test client."""
    from tests.factories import MembershipFactory

    return MembershipFactory()


@pytest.fixture
def member_client(client, member):
    client.force_login(member.user)
    return client
