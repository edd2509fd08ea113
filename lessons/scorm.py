"""A lesson's video as a SCORM package (1.2, or 2004 4th edition) an LMS imports: the manifest
at the zip's root, and a self-contained HTML5 player with the MP4, its captions, chapters and
poster inside, so it plays with no request to this site (in an LMS that is offline, or after a
share link went dark).

The player (lessons/player/) reports to the LMS's SCORM API: progress as the share of the video
watched (seconds really played, not the furthest point reached), completion at the lesson's
share, where the learner stopped (resumed at the next launch), the session's time, and the
quiz's score against the mastery score. It shows the AI disclosure and the verify link.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

from django.conf import settings
from lxml import etree

PLAYER = Path(__file__).resolve().parent / "player"
VERSIONS = ("1.2", "2004")

DISCLOSURE = (
    "This video is AI-generated: the presenter's face and voice are synthetic, made with the "
    "consent of the person they resemble."
)


class UnknownVersion(ValueError):
    pass


def build_package(lesson, video, *, version: str, verify_url: str):
    """The package as an open temporary file (read from its start); ``version`` "1.2" or
    "2004"."""
    if version not in VERSIONS:
        raise UnknownVersion(version)
    files: list[tuple[str, object]] = []  # (name in the zip, a FieldFile or bytes)
    files.append(("media/lesson.mp4", video.file))
    if video.captions_vtt:
        files.append(("media/captions.vtt", video.captions_vtt))
    if video.poster:
        files.append(("media/poster.jpg", video.poster))
    render = getattr(video.job, "lesson_render", None)
    chapters = render.chapters_vtt if render is not None else ""
    if chapters:
        files.append(("media/chapters.vtt", chapters.encode()))
    data = lesson_data(
        lesson,
        video,
        version=version,
        verify_url=verify_url,
        has_captions=bool(video.captions_vtt),
        has_poster=bool(video.poster),
        has_chapters=bool(chapters),
    )
    files.append(("lesson-data.js", _data_script(data)))
    for name in ("index.html", "player.js", "player.css"):
        files.append((name, (PLAYER / name).read_bytes()))
    names = [name for name, _ in files]
    manifest = manifest_12(lesson, names) if version == "1.2" else manifest_2004(lesson, names)

    out = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("imsmanifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        for name, source in files:
            # The video is stored as it is (H.264 does not shrink); the rest is deflated.
            kind = zipfile.ZIP_STORED if name.endswith(".mp4") else zipfile.ZIP_DEFLATED
            if isinstance(source, bytes):
                archive.writestr(name, source, compress_type=kind)
            else:
                with (
                    source.open("rb") as handle,
                    archive.open(
                        zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)),
                        "w",
                        force_zip64=True,
                    ) as target,
                ):
                    while chunk := handle.read(1 << 20):
                        target.write(chunk)
    out.seek(0)
    return out


def lesson_data(lesson, video, *, version: str, verify_url: str, **media) -> dict:
    return {
        "version": version,
        "title": lesson.title,
        "seconds": video.seconds,
        "completionShare": lesson.completion_share,
        "masteryPercent": lesson.mastery_percent if lesson.quiz else None,
        "quiz": lesson.quiz,
        "disclosure": DISCLOSURE,
        "verifyUrl": verify_url,
        "site": settings.SITE_NAME,
        "media": {
            "video": "media/lesson.mp4",
            "captions": "media/captions.vtt" if media.get("has_captions") else None,
            "poster": "media/poster.jpg" if media.get("has_poster") else None,
            "chapters": "media/chapters.vtt" if media.get("has_chapters") else None,
        },
    }


def _data_script(data: dict) -> bytes:
    """The lesson's settings as a script file the page loads (an LMS may forbid inline
    scripts, and a page opened from disk cannot fetch a JSON file)."""
    text = json.dumps(data, ensure_ascii=True).replace("<", "\\u003c")
    return f"window.LESSON_DATA = {text};\n".encode()


CP12 = "http://www.imsproject.org/xsd/imscp_rootv1p1p2"
ADLCP12 = "http://www.adlnet.org/xsd/adlcp_rootv1p2"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
ADLCP = "http://www.adlnet.org/xsd/adlcp_v1p3"
ADLSEQ = "http://www.adlnet.org/xsd/adlseq_v1p3"
ADLNAV = "http://www.adlnet.org/xsd/adlnav_v1p3"
IMSSS = "http://www.imsglobal.org/xsd/imsss"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# The schema each namespace is checked against (file names as the ADL packages ship them).
SCHEMAS_12 = {
    CP12: "imscp_rootv1p1p2.xsd",
    "http://www.imsglobal.org/xsd/imsmd_rootv1p2p1": "imsmd_rootv1p2p1.xsd",
    ADLCP12: "adlcp_rootv1p2.xsd",
}
SCHEMAS_2004 = {
    CP: "imscp_v1p1.xsd",
    ADLCP: "adlcp_v1p3.xsd",
    ADLSEQ: "adlseq_v1p3.xsd",
    ADLNAV: "adlnav_v1p3.xsd",
    IMSSS: "imsss_v1p0.xsd",
}


def _manifest(lesson, names, *, cp: str, nsmap: dict, schemas: dict, version: str, item_extra):
    def element(parent, tag, text=None, **attributes):
        node = etree.SubElement(parent, tag, {k: str(v) for k, v in attributes.items()})
        if text is not None:
            node.text = text
        return node

    root = etree.Element(
        f"{{{cp}}}manifest",
        {
            "identifier": f"likeness-lesson-{lesson.pk}",
            "version": "1",
            f"{{{XSI}}}schemaLocation": " ".join(f"{ns} {xsd}" for ns, xsd in schemas.items()),
        },
        nsmap={None: cp, "xsi": XSI, **nsmap},
    )
    metadata = element(root, f"{{{cp}}}metadata")
    element(metadata, f"{{{cp}}}schema", "ADL SCORM")
    element(metadata, f"{{{cp}}}schemaversion", version)
    organizations = element(root, f"{{{cp}}}organizations", default="lesson-organization")
    organization = element(organizations, f"{{{cp}}}organization", identifier="lesson-organization")
    element(organization, f"{{{cp}}}title", lesson.title)
    item = element(
        organization, f"{{{cp}}}item", identifier="lesson-item", identifierref="lesson-resource"
    )
    element(item, f"{{{cp}}}title", lesson.title)
    item_extra(item, element)
    resources = element(root, f"{{{cp}}}resources")
    resource = etree.SubElement(
        resources,
        f"{{{cp}}}resource",
        {"identifier": "lesson-resource", "type": "webcontent", "href": "index.html"},
    )
    return root, resource, element


def manifest_12(lesson, names: list[str]) -> bytes:
    def extra(item, element):
        if lesson.quiz:
            element(item, f"{{{ADLCP12}}}masteryscore", str(lesson.mastery_percent))

    root, resource, element = _manifest(
        lesson,
        names,
        cp=CP12,
        nsmap={"adlcp": ADLCP12},
        schemas=SCHEMAS_12,
        version="1.2",
        item_extra=extra,
    )
    resource.set(f"{{{ADLCP12}}}scormtype", "sco")
    for name in ["index.html", *[n for n in names if n != "index.html"]]:
        element(resource, f"{{{CP12}}}file", href=name)
    return _xml(root)


def manifest_2004(lesson, names: list[str]) -> bytes:
    def extra(item, element):
        element(
            item,
            f"{{{ADLCP}}}completionThreshold",
            completedByMeasure="true",
            minProgressMeasure=f"{lesson.completion_share:.2f}",
        )
        if lesson.quiz:
            sequencing = element(item, f"{{{IMSSS}}}sequencing")
            objectives = element(sequencing, f"{{{IMSSS}}}objectives")
            primary = element(
                objectives,
                f"{{{IMSSS}}}primaryObjective",
                objectiveID="lesson-mastery",
                satisfiedByMeasure="true",
            )
            element(
                primary, f"{{{IMSSS}}}minNormalizedMeasure", f"{lesson.mastery_percent / 100:.2f}"
            )

    root, resource, element = _manifest(
        lesson,
        names,
        cp=CP,
        nsmap={"adlcp": ADLCP, "adlseq": ADLSEQ, "adlnav": ADLNAV, "imsss": IMSSS},
        schemas=SCHEMAS_2004,
        version="2004 4th Edition",
        item_extra=extra,
    )
    resource.set(f"{{{ADLCP}}}scormType", "sco")
    for name in ["index.html", *[n for n in names if n != "index.html"]]:
        element(resource, f"{{{CP}}}file", href=name)
    return _xml(root)


def _xml(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
