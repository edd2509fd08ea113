"""The avatar's voice profile, computed from its stored sample (engine/voice/profile.py)."""

import tempfile
from pathlib import Path, PurePath

from engine.voice.profile import compute_voice_profile


def voice_profile_bytes(field_file) -> tuple[bytes, dict]:
    """The voice profile of a stored sample as .npz bytes, and its summary numbers."""
    suffix = PurePath(field_file.name).suffix.lower() or ".wav"
    with tempfile.TemporaryDirectory(prefix="likeness-profile-") as folder:
        path = Path(folder) / f"sample{suffix}"
        with field_file.open("rb") as source:
            path.write_bytes(source.read())
        profile = compute_voice_profile([path])
    return profile.to_bytes(), profile.summary()
