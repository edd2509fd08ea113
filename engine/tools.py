"""External programs the engine runs (ffmpeg, ffprobe, festival)."""

import shutil

from engine.errors import ToolMissing

_PACKAGES = {
    "ffmpeg": "ffmpeg",
    "ffprobe": "ffmpeg",
    "festival": "festival and festvox-us-slt-hts",
}


def require_tool(name: str) -> str:
    """Absolute path of the program ``name``; ToolMissing names the package to install."""
    path = shutil.which(name)
    if path is None:
        package = _PACKAGES.get(name, name)
        raise ToolMissing(f"The program '{name}' is not installed; install the {package} package.")
    return path
