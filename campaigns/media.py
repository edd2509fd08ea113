"""A variant's animated GIF for email: the first seconds of the speech with a play mark on it,
at most GIF_MAX_WIDTH wide and GIF_MAX_BYTES, linked to the recipient's share page.

Made after the video is published (ffmpeg runs outside any transaction), never for a video whose
consent is withdrawn."""

from __future__ import annotations

import logging
import shutil
import subprocess  # nosec B404: runs ffmpeg with an argument list, never through a shell
import tempfile
from pathlib import Path

from django.core.files import File
from PIL import Image, ImageDraw

from campaigns.models import Recipient
from rendering.models import RenderJob

log = logging.getLogger(__name__)

GIF_MAX_WIDTH = 480
GIF_MAX_BYTES = 1_000_000
GIF_SECONDS = 3.0
# Tried in order until the GIF fits GIF_MAX_BYTES: (width, frames per second, colours).
GIF_STEPS = [
    (480, 10, 128),
    (400, 8, 96),
    (320, 8, 64),
    (240, 6, 48),
    (200, 5, 32),
    (160, 4, 16),
]


class GifTooBig(Exception):
    pass


def play_mark(width: int, path: Path) -> Path:
    """A white play triangle in a dark translucent disc, a fifth of the GIF's width, as a PNG."""
    size = max(24, width // 5) // 2 * 2
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, size - 1, size - 1), fill=(0, 0, 0, 150), outline=(255, 255, 255, 230))
    third = size / 3
    draw.polygon(
        [(third * 1.15, third * 0.8), (third * 1.15, third * 2.2), (third * 2.25, size / 2)],
        fill=(255, 255, 255, 255),
    )
    image.save(path)
    return path


def _gif_command(video_path: Path, mark: Path, out_path: Path, start, seconds, step) -> list:
    width, fps, colours = step
    graph = (
        f"[0:v]fps={fps},scale='min({width},iw)':-2:flags=lanczos[v];"
        "[v][1:v]overlay=(W-w)/2:(H-h)/2,split[a][b];"
        f"[a]palettegen=max_colors={colours}:stats_mode=diff[p];"
        "[b][p]paletteuse=dither=bayer:bayer_scale=4"
    )
    return [
        *("ffmpeg", "-v", "error", "-y", "-ss", f"{max(start, 0.0):.3f}"),
        *("-t", f"{seconds:.3f}", "-i", str(video_path), "-i", str(mark)),
        *("-filter_complex", graph, "-loop", "0", str(out_path)),
    ]


def _weight(step) -> float:
    """Roughly how a GIF's size grows with a step: pixels times frames."""
    width, fps, _ = step
    return width * width * fps


def write_gif(video_path: Path, out_path: Path, *, start: float, seconds: float = GIF_SECONDS):
    """Write the GIF of ``seconds`` from ``start`` (seconds into the video) at the first step
    of GIF_STEPS that fits GIF_MAX_BYTES; a GIF too big skips the steps its size says would be
    too big too. Returns (bytes, width in pixels, fps, colours). Raises GifTooBig if no step
    fits, subprocess.CalledProcessError if ffmpeg cannot read the video."""
    i = 0
    while i < len(GIF_STEPS):
        step = GIF_STEPS[i]
        mark = play_mark(step[0], out_path.with_suffix(".mark.png"))
        command = _gif_command(video_path, mark, out_path, start, seconds, step)
        subprocess.run(command, check=True, capture_output=True, timeout=120)  # nosec B603: an argument list of our own paths and numbers, no shell
        size = out_path.stat().st_size
        if size <= GIF_MAX_BYTES:
            with Image.open(out_path) as gif:
                return size, gif.width, step[1], step[2]
        # The next step expected to fit (a tenth to spare), at least the next one.
        wanted = _weight(step) * GIF_MAX_BYTES / size * 0.9
        i = next(
            (j for j in range(i + 1, len(GIF_STEPS)) if _weight(GIF_STEPS[j]) <= wanted),
            len(GIF_STEPS) - 1 if i < len(GIF_STEPS) - 1 else len(GIF_STEPS),
        )
    raise GifTooBig(f"No GIF of {video_path.name} fits in {GIF_MAX_BYTES} bytes.")


def published_video(recipient: Recipient):
    """The recipient's video once rendered and stored, else None."""
    job = recipient.job
    if job is None or job.status != RenderJob.Status.SUCCEEDED:
        return None
    video = getattr(job, "video", None)
    return video if video is not None and video.file else None


def speech_start(result) -> float:
    """When the speech begins in a render (after any disclosure card): its first word."""
    words = getattr(result, "words", None) or []
    return float(words[0][1]) if words else 0.0


def make_recipient_gif(recipient_id: int, *, start: float) -> bool:
    """Make and store the GIF of a recipient's published video; False (and nothing stored) when
    there is no video any more or its consent is withdrawn."""
    recipient = (
        Recipient.objects.select_related("job__video__job__avatar__grant", "campaign")
        .filter(pk=recipient_id)
        .first()
    )
    video = published_video(recipient) if recipient else None
    if video is None or video.withdrawal or recipient.campaign.erased_at:
        return False
    workdir = Path(tempfile.mkdtemp(prefix="likeness-gif-"))
    try:
        source = workdir / "video.mp4"
        with video.file.open("rb") as handle, open(source, "wb") as copy:
            shutil.copyfileobj(handle, copy)
        out = workdir / "preview.gif"
        size, width, fps, colours = write_gif(source, out, start=start)
        old = recipient.gif.name if recipient.gif else ""
        with open(out, "rb") as handle:
            recipient.gif.save(f"recipient-{recipient.pk}.gif", File(handle), save=False)
        Recipient.objects.filter(pk=recipient.pk).update(gif=recipient.gif.name)
        if old:
            recipient.gif.storage.delete(old)
        log.info(
            "GIF of %s: %d bytes, %d px, %d fps, %d colours", recipient, size, width, fps, colours
        )
        return True
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
