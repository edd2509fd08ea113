"""Timelines as plain data: JSON that round-trips, and one clear line for what cannot render."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from engine.timeline import (
    Background,
    Layout,
    OnScreenText,
    OutputFormat,
    Scene,
    Segment,
    Timeline,
    TimelineError,
    TimelineLimits,
    Transition,
    one_scene,
)


def lesson(tmp_path) -> Timeline:
    slide = tmp_path / "slide.png"
    Image.new("RGB", (64, 36), (20, 90, 160)).save(slide)
    return Timeline(
        format=OutputFormat.named("landscape-720p"),
        scenes=[
            Scene(
                segments=[Segment("Welcome to the course.", pause_after=0.5)],
                layout=Layout("corner", position="bottom-left", size=0.3, shape="rectangle"),
                background=Background("image", path=str(slide)),
                text=OnScreenText(title="Welcome", bullets=["One", "Two"]),
                transition=Transition("crossfade", 0.4),
            ),
            Scene(duration=2.0, layout=Layout("voice_over"), text=OnScreenText(title="Break")),
        ],
    )


def test_a_timeline_round_trips_through_json(tmp_path):
    timeline = lesson(tmp_path)
    again = Timeline.from_json(timeline.to_json())
    assert again == timeline
    assert again.to_json() == timeline.to_json()
    assert json.loads(timeline.to_json())["version"] == 1
    timeline.check()
    assert timeline.spoken_texts() == ["Welcome to the course."]
    assert timeline.on_screen_texts() == ["Welcome", "One", "Two", "Break"]
    assert [scene.chapter for scene in timeline.scenes] == ["Welcome", "Break"]


def test_todays_single_script_render_is_one_scene_full_frame():
    timeline = one_scene("Hello there.", width=512, height=512, fps=25)
    timeline.check()
    [scene] = timeline.scenes
    assert scene.layout.kind == "full" and scene.layout.shows_presenter
    assert [s.text for s in scene.segments] == ["Hello there."]
    assert (timeline.format.width, timeline.format.height, timeline.format.fps) == (512, 512, 25)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "A timeline is a JSON object."),
        ({"scenes": [], "colour": "red"}, "timeline: unknown field colour."),
        ({"scenes": "all of them"}, "timeline.scenes must be a list."),
        ({"scenes": [3]}, "timeline.scenes[0] must be an object."),
        (
            {"scenes": [{"layout": {"size": "big"}}]},
            'timeline.scenes[0].layout.size must be a number, not "big".',
        ),
        ({"scenes": [{"segments": [{"text": 5}]}]}, "scenes[0].segments[0].text must be a string"),
        ({"scenes": [{"duration": True}]}, "timeline.scenes[0].duration must be a number"),
        ({"scenes": [{"segments": [{}]}]}, "missing 1 required positional argument: 'text'"),
        ({"format": {"fps": 2.5}, "scenes": []}, "timeline.format.fps must be a whole number"),
    ],
)
def test_what_is_not_a_timeline_names_the_field(data, message):
    with pytest.raises(TimelineError) as caught:
        Timeline.from_dict(data)
    assert message in str(caught.value)


def test_json_that_does_not_parse_says_so():
    with pytest.raises(TimelineError, match="not valid JSON"):
        Timeline.from_json("{scenes: [")


def scene(**changes) -> Scene:
    return Scene(**{"segments": [Segment("Hello.")], **changes})


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda p: [scene(layout=Layout("pip"))], "scene 1: unknown layout 'pip'"),
        (
            lambda p: [scene(), scene(layout=Layout("corner", position="middle"))],
            "scene 2: unknown corner 'middle'",
        ),
        (lambda p: [scene(layout=Layout("corner", size=0.9))], "size is a share"),
        (
            lambda p: [
                scene(layout=Layout("half"), background=Background("image", path=p("no.png")))
            ],
            "scene 1: the background file no.png is missing.",
        ),
        (
            lambda p: [
                scene(layout=Layout("half"), background=Background("image", path=p("t.png")))
            ],
            "scene 1: the background image t.png is not an image.",
        ),
        (
            lambda p: [
                scene(layout=Layout("voice_over"), background=Background("video", path=p("t.mp4")))
            ],
            "scene 1: the background video t.mp4 cannot be read.",
        ),
        (
            lambda p: [
                scene(layout=Layout("half"), background=Background("image", path=p("t.txt")))
            ],
            "not a PNG, JPEG or WebP",
        ),
        (lambda p: [scene(background=Background("color", color="red"))], None),
        (
            lambda p: [scene(layout=Layout("half"), background=Background("color", color="red"))],
            "scene 1: the colour 'red' is not of the form #rrggbb.",
        ),
        (lambda p: [Scene()], "scene 1: a scene with no speech needs a duration in seconds."),
        (lambda p: [Scene(segments=[Segment("  ")])], "scene 1, segment 1: a segment needs text."),
        (lambda p: [scene(transition=Transition("wipe"))], "unknown transition 'wipe'"),
        (lambda p: [Scene(duration=600)] * 24, "would last about 4.0 h; the limit is 1.0 h."),
        (lambda p: [scene()] * 500, "The timeline has 500 scenes; the limit is 100."),
        (lambda p: [], "A timeline needs at least one scene."),
        (
            lambda p: [scene(text=OnScreenText(bullets=["b"] * 9))],
            "scene 1: at most 8 bullets fit on a scene.",
        ),
    ],
)
def test_a_timeline_that_cannot_render_is_refused_with_one_line(tmp_path, build, message):
    (tmp_path / "t.png").write_text("not a picture")
    (tmp_path / "t.txt").write_text("not a picture")
    (tmp_path / "t.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 but then nothing")
    timeline = Timeline(scenes=build(lambda name: str(tmp_path / name)))
    if message is None:  # a full-frame presenter hides the background: its colour is not read
        timeline.check()
        return
    with pytest.raises(TimelineError) as caught:
        timeline.check()
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_limits_are_settings():
    timeline = Timeline(scenes=[scene()] * 6)
    timeline.check()
    with pytest.raises(TimelineError, match="limit is 5"):
        timeline.check(TimelineLimits(max_scenes=5))


def test_the_cli_refuses_a_bad_timeline_with_one_line(tmp_path):
    spec = {
        "script_text": "unused",
        "portrait_path": str(tmp_path / "p.png"),
        "timeline": {"scenes": [{"segments": [{"text": "Hi."}], "layout": {"kind": "pip"}}]},
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    out = str(tmp_path / "o.mp4")
    done = subprocess.run(
        [sys.executable, "-m", "engine", "render", str(tmp_path / "spec.json"), out],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .endswith("scene 1: unknown layout 'pip'; choose one of: full, corner, half, voice_over.")
    )


def test_the_sound_is_at_48_or_44_1_khz_and_older_timelines_get_48():
    timeline = Timeline(
        scenes=[Scene(segments=[Segment("Hi.")])], format=OutputFormat(audio_rate=22050)
    )
    with pytest.raises(
        TimelineError, match=r"format: audio_rate must be 48000 or 44100 Hz, not 22050\."
    ):
        timeline.check()
    written_before = one_scene("Hi.", width=64, height=64, fps=25).to_dict()
    del written_before["format"]["audio_rate"]
    assert Timeline.from_dict(written_before).format.audio_rate == 48000
    assert OutputFormat(audio_rate=44100).audio_rate == 44100
