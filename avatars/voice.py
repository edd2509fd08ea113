"""The avatar's voice profile, computed from its stored sample (engine/voice/profile.py)."""

import tempfile
from pathlib import Path

from core.files import copy_to_local
from engine.voice.profile import compute_voice_profile


def voice_profile_bytes(field_file) -> tuple[bytes, dict]:
    """The voice profile of a stored sample as .npz bytes, and its summary numbers."""
    with tempfile.TemporaryDirectory(prefix="likeness-profile-") as folder:
        profile = compute_voice_profile([copy_to_local(field_file, Path(folder), "sample")])
    return profile.to_bytes(), profile.summary()
