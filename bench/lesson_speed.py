"""Lesson speed: a ten-slide PDF deck made here, imported as a lesson imports it, rendered with
about two minutes of speech at 1280x720 with the presenter in a corner of each slide, then
exported as SCORM 1.2 and 2004 packages.

Run: ``python -m bench.lesson_speed`` (from the repository root). Prints one JSON object:
``import_seconds_per_slide`` (lessons.decks.read_deck on the PDF: pages counted, checked and
titled), ``realtime_factor`` (render wall seconds per video second on this machine; the goal is
0.5 or less on 2 cores), ``scorm_export_seconds`` per version and the packages' sizes, and
``scorm_12_zip`` / ``scorm_2004_zip``: the two packages, left under var/bench/lesson_speed/ for
inspection.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from bench.timeline_speed import spec_for, timed
from engine.captions import caption_paths, chapters_path
from engine.demo import write_demo_assets
from engine.keys import ensure_site_identity
from engine.pipeline import render
from engine.poster import poster_path
from engine.timeline import Background, Layout, OutputFormat, Scene, Segment, Timeline, Transition
from engine.voice.profile import compute_voice_profile

OUT = Path("var/bench/lesson_speed")

# (title, what the presenter says): about 170 characters a slide, some 12 seconds of speech.
SLIDES = [
    ("Fire safety at work",
     "Welcome to this lesson about fire safety at work. It takes about two minutes. "
     "You can pause it at any time and come back to it later."),
    ("Why it matters",
     "Most fires at work start small. What you do in the first minute matters most. "
     "A calm person who knows the way out keeps everyone safe."),
    ("Know your exits",
     "Find the two nearest exits from your desk today. Count the doors on the way. "
     "In smoke you may have to find them by touch alone."),
    ("The alarm",
     "The alarm is a steady ring. When you hear it, stop what you are doing and leave. "
     "Do not stop to collect your coat or your laptop."),
    ("Leaving the building",
     "Walk, do not run. Close the doors behind you and never use the lifts. "
     "Keep to the right on the stairs so that firefighters can pass."),
    ("The assembly point",
     "Go straight to the assembly point in the car park and wait to be counted. "
     "Stay there until a warden tells you that it is safe to go back."),
    ("Extinguishers",
     "Use an extinguisher only on a small fire, and only if your way out stays clear. "
     "Pull the pin, aim at the base of the fire and squeeze."),
    ("Helping others",
     "Help visitors and anyone who needs it. Tell the warden if someone is missing. "
     "Never go back into the building to look for them yourself."),
    ("Reporting hazards",
     "Report blocked exits, broken alarms and piled rubbish to the facilities team. "
     "A small report today can prevent a large fire tomorrow."),
    ("Thank you",
     "Thank you for watching. You now know what to do when the alarm rings at work. "
     "Take a minute today to walk to your nearest exit."),
]  # fmt: skip


def make_deck(path: Path) -> None:
    """Ten landscape slides with a title and three bullets each (WeasyPrint)."""
    from weasyprint import HTML

    pages = "".join(
        f"<section><h1>{title}</h1><ul><li>Point one</li><li>Point two</li>"
        f"<li>Point three</li></ul></section>"
        for title, _ in SLIDES
    )
    css = (
        "@page { size: 1280px 720px; margin: 60px } section { page-break-after: always }"
        " h1 { font: bold 56px sans-serif; color: #18406e } li { font: 32px sans-serif }"
    )
    HTML(string=f"<style>{css}</style>{pages}").write_pdf(path)


def lesson_timeline(pdf: Path, titles: list[str]) -> Timeline:
    scenes = [
        Scene(
            segments=[Segment(sentence.strip() + ".", pause_after=0.3) for sentence in
                      text.rstrip(".").split(". ")],
            layout=Layout("corner", position="bottom-right", size=0.35),
            background=Background("document", path=str(pdf), page=number),
            transition=Transition("crossfade", 0.4) if number % 3 == 0 else Transition("cut"),
            title=titles[number - 1] or title,
        )
        for number, (title, text) in enumerate(SLIDES, 1)
    ]  # fmt: skip
    return Timeline(scenes=scenes, format=OutputFormat.named("landscape-720p"))


class _StoredFile:
    """A local file standing in for a stored one (what lessons.scorm reads)."""

    def __init__(self, path: Path):
        self.path = path

    def open(self, mode: str = "rb"):
        return open(self.path, mode)

    def __bool__(self) -> bool:
        return self.path.is_file()


def main() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from lessons import scorm
    from lessons.decks import DeckLimits, read_deck

    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="likeness-bench-") as tmp:
        folder = Path(tmp)
        deck_path = folder / "fire-safety.pdf"
        make_deck(deck_path)
        (folder / "import").mkdir()
        deck, import_wall = timed(
            read_deck, deck_path, deck_path.name, folder / "import", DeckLimits()
        )
        assets = write_demo_assets(tmp)
        compute_voice_profile([assets.voice_sample_path]).save(f"{tmp}/voice-profile.npz")
        ensure_site_identity(f"{tmp}/keys")
        timeline = lesson_timeline(deck.pdf_path, [slide.title for slide in deck.slides])
        spec = spec_for(
            assets, tmp, timeline=timeline.to_dict(), width=1280, height=720,
            provenance_id="00c0ffee00c0ff16",
        )  # fmt: skip
        video_path = folder / "lesson.mp4"
        result, render_wall = timed(render, spec, video_path)

        vtt, _ = caption_paths(video_path)
        video = SimpleNamespace(
            file=_StoredFile(video_path),
            captions_vtt=_StoredFile(vtt),
            poster=_StoredFile(poster_path(video_path)),
            seconds=result.video_seconds,
            job=SimpleNamespace(
                lesson_render=SimpleNamespace(
                    chapters_vtt=chapters_path(video_path).read_text(encoding="utf-8")
                )
            ),
        )
        lesson = SimpleNamespace(
            pk=16, title="Fire safety at work", quiz=[], completion_share=0.9, mastery_percent=80
        )
        exports = {}
        for version, key in (("1.2", "12"), ("2004", "2004")):
            started = time.perf_counter()
            package = scorm.build_package(
                lesson, video, version=version, verify_url="https://likeness.example/verify"
            )
            target = OUT / f"lesson-scorm-{version}.zip"
            with open(target, "wb") as out:
                shutil.copyfileobj(package, out)
            package.close()
            exports[key] = (time.perf_counter() - started, target)
    return {
        "slides": len(deck.slides),
        "import_seconds_per_slide": round(import_wall / len(deck.slides), 4),
        "video_seconds": result.video_seconds,
        "width": result.width,
        "height": result.height,
        "render_seconds": round(render_wall, 2),
        "realtime_factor": round(render_wall / result.video_seconds, 3),
        "stage_seconds": result.stage_seconds,
        "scorm_export_seconds": {v: round(s, 3) for v, (s, _) in exports.items()},
        "scorm_12_bytes": exports["12"][1].stat().st_size,
        "scorm_2004_bytes": exports["2004"][1].stat().st_size,
        "scorm_12_zip": str(exports["12"][1]),
        "scorm_2004_zip": str(exports["2004"][1]),
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
