"""Upload checks every form uses: cheap checks first (extension, emptiness, size), then the
engine's own check on a temporary copy, whose errors become form errors. A portrait and a voice
sample are the same kind of file wherever they are uploaded (an avatar, a consent's references)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename
from PIL import Image

from core.files import upload_to_local
from engine.biometrics.bounds import NotAMediaFile, check_audio_bounds
from engine.errors import EngineError
from engine.face import inspect_portrait
from engine.voice import inspect_voice_sample

if TYPE_CHECKING:
    from engine.face.footage import FootageReport
    from engine.face.landmarks import PortraitReport

PORTRAIT_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
VOICE_EXTENSIONS = (".wav",)
FOOTAGE_EXTENSIONS = (".mp4", ".mov", ".m4v", ".webm", ".mkv")
FOOTAGE_SOUND_RATE = 16000  # the footage's sound as a voice sample: what the voice engines read


def check_upload(upload, *, extensions: tuple[str, ...], max_bytes: int, what: str) -> None:
    """Cheap checks before any decoding: extension, size."""
    suffix = PurePath(upload.name).suffix.lower()
    if suffix not in extensions:
        raise forms.ValidationError(
            f"The {what} must be a {' or '.join(e.lstrip('.').upper() for e in extensions)} file; "
            f"“{upload.name}” is not."
        )
    if upload.size > max_bytes:
        raise forms.ValidationError(
            f"The {what} is {filesizeformat(upload.size)}; "
            f"the limit is {filesizeformat(max_bytes)}."
        )


def inspect_upload(upload, inspect, **kwargs):
    """Run an engine check on an upload via a temporary file; engine errors become form errors."""
    # The temporary file keeps the upload's (sanitised) name, so messages name the user's file.
    name = get_valid_filename(PurePath(upload.name).name) or "upload"
    with tempfile.TemporaryDirectory(prefix="likeness-upload-") as folder:
        path = Path(folder) / name
        upload_to_local(upload, path)
        try:
            return inspect(path, **kwargs)
        except EngineError as error:
            raise forms.ValidationError(str(error)) from error
        finally:
            upload.seek(0)


def _within_audio_bounds(path: Path, **kwargs) -> None:
    """Length and sample rate from the file's header, before anything decodes it: an hour of
    sound at 1 Hz is a small file but would take every later check hours. A header that cannot be
    read is left to the decoder, whose message names the file."""
    try:
        check_audio_bounds(path, **kwargs)
    except NotAMediaFile:
        return


class _CheckedFileField(forms.FileField):
    """A file field whose upload passes ``check_upload`` (extension, size), then ``inspect``."""

    extensions: tuple[str, ...] = ()
    max_bytes_setting = ""

    def __init__(self, *, what: str, **kwargs):
        self.what = what
        kwargs.setdefault(
            "widget", forms.ClearableFileInput(attrs={"accept": ",".join(self.extensions)})
        )
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload:
            max_bytes = getattr(settings, self.max_bytes_setting)
            check_upload(upload, extensions=self.extensions, max_bytes=max_bytes, what=self.what)
            self.inspect(upload)
        return upload

    def inspect(self, upload) -> None:
        raise NotImplementedError


class PortraitField(_CheckedFileField):
    """A photo of the subject alone; cleaning leaves the engine's report on the upload as
    ``upload.portrait_report`` (size, landmarks)."""

    extensions = PORTRAIT_EXTENSIONS
    max_bytes_setting = "MAX_PORTRAIT_BYTES"

    def __init__(self, *, what: str = "portrait", **kwargs):
        super().__init__(what=what, **kwargs)

    def inspect(self, upload) -> None:
        upload.portrait_report = inspect_upload(upload, inspect_portrait)


class VoiceSampleField(_CheckedFileField):
    """A WAV recording of the subject speaking, within the site's length and sample-rate limits;
    cleaning leaves the engine's report on the upload as ``upload.voice_report``."""

    extensions = VOICE_EXTENSIONS
    max_bytes_setting = "MAX_VOICE_SAMPLE_BYTES"

    def __init__(self, *, what: str = "voice sample", **kwargs):
        super().__init__(what=what, **kwargs)

    def inspect(self, upload) -> None:
        inspect_upload(
            upload,
            _within_audio_bounds,
            max_seconds=settings.MAX_VOICE_SAMPLE_SECONDS,
            min_rate=settings.MIN_VOICE_SAMPLE_RATE,
        )
        upload.voice_report = inspect_upload(
            upload, inspect_voice_sample, min_seconds=settings.MIN_VOICE_SAMPLE_SECONDS
        )


@dataclass(frozen=True)
class FootageLikeness:
    """What a footage upload gives an avatar: the check's report, a still of the subject looking
    at the camera (its portrait, with the portrait's own report) and its sound (None when it has
    none) as a mono WAV."""

    report: FootageReport
    still_png: bytes
    portrait_report: PortraitReport
    sound_wav: bytes | None


def footage_likeness(path: Path) -> FootageLikeness:
    """Check footage (engine.face.footage) and take what an avatar keeps of it; engine errors
    propagate."""
    from engine.face.footage import check_footage, footage_audio, still_frame

    report = check_footage(
        str(path),
        min_seconds=settings.FOOTAGE_MIN_SECONDS,
        max_seconds=settings.FOOTAGE_MAX_SECONDS,
    )
    still_path = path.with_name("still.png")
    Image.fromarray(still_frame(str(path))).save(still_path)
    sound = None
    if report.has_audio:
        sound_path = path.with_name("sound.wav")
        footage_audio(str(path), str(sound_path), rate=FOOTAGE_SOUND_RATE)
        sound = sound_path.read_bytes()
    return FootageLikeness(report, still_path.read_bytes(), inspect_portrait(still_path), sound)


class FootageField(_CheckedFileField):
    """Minutes of video of the subject alone, talking to the camera; cleaning leaves what it gives
    the avatar on the upload as ``upload.likeness`` (a FootageLikeness)."""

    extensions = FOOTAGE_EXTENSIONS
    max_bytes_setting = "MAX_FOOTAGE_BYTES"

    def __init__(self, *, what: str = "footage", **kwargs):
        super().__init__(what=what, **kwargs)

    def inspect(self, upload) -> None:
        upload.likeness = inspect_upload(upload, footage_likeness)
