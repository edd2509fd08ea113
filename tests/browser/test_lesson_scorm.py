"""A lesson's SCORM packages in a real SCORM runtime: scorm-again (npm, scripts/setup.sh) plays
the LMS in Chromium, the package in a frame, for SCORM 1.2 and 2004. The package initialises,
reports progress, completes at its threshold, resumes where the learner stopped in a second
session, reports the quiz's score, and terminates; every request stays inside the LMS (the
package asks nothing of the site that made it)."""

import functools
import http.server
import io
import shutil
import threading
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

from lessons import scorm
from lessons.models import Lesson, LessonScene
from tests.factories import GrantFactory
from tests.lessons.scorm_media import finished_lesson_video

pytestmark = pytest.mark.django_db

LMS = Path(__file__).parent / "scorm_lms"
SCORM_AGAIN = Path(settings.BASE_DIR) / "node_modules" / "scorm-again" / "dist"
QUIZ = [
    {"question": "Where do you go when the alarm rings?", "choices": ["The lift", "The stairs"],
     "answer": 1},
]  # fmt: skip
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


@pytest.fixture
def lms_root(tmp_path, member, make_avatar):
    """A folder served as the LMS: its page and script, scorm-again, and the package unpacked
    under pkg/ (made again for each version by ``unpack``)."""
    if not (SCORM_AGAIN / "scorm12.js").is_file():
        pytest.fail("scorm-again is missing: run scripts/setup.sh (npm ci)")
    root = tmp_path / "lms"
    shutil.copytree(LMS, root)
    shutil.copytree(SCORM_AGAIN, root / "scorm-again")
    avatar = make_avatar(grant=GrantFactory(subject__workspace=member.workspace))
    lesson = Lesson.objects.create(
        workspace=member.workspace, title="Fire safety", avatar=avatar, quiz=QUIZ,
        completion_share=0.5,
    )  # fmt: skip
    LessonScene.objects.create(lesson=lesson, position=1, title="Exits", script="Exit calmly.")
    video = finished_lesson_video(lesson, avatar, tmp_path, seconds=4.0)

    def unpack(version: str) -> None:
        shutil.rmtree(root / "pkg", ignore_errors=True)
        data = scorm.build_package(
            lesson, video, version=version, verify_url="https://likeness.example/verify/abc"
        ).read()
        zipfile.ZipFile(io.BytesIO(data)).extractall(root / "pkg")

    return root, unpack


@pytest.fixture
def lms_server(lms_root):
    root, _ = lms_root
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with byte ranges (a browser seeks in a video by asking for a range, as an
    LMS's web server lets it)."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".vtt": "text/vtt"}

    def send_head(self):
        header = self.headers.get("Range", "")
        path = Path(self.translate_path(self.path))
        if not header.startswith("bytes=") or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        first, _, last = header[6:].split(",")[0].partition("-")
        start = int(first) if first else max(0, size - int(last))
        end = min(size - 1, int(last)) if first and last else size - 1
        if start >= size:
            self.send_error(416)
            return None
        handle = open(path, "rb")  # noqa: SIM115 - closed by the base class after copying
        handle.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        return _Limited(handle, end - start + 1)

    def log_message(self, *args) -> None:
        pass


class _Limited(io.RawIOBase):
    """The first ``length`` bytes of an open file (the range asked for), closing it with itself."""

    def __init__(self, handle, length: int):
        self.handle, self.left = handle, length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.left <= 0:
            return 0
        data = self.handle.read(min(len(buffer), self.left))
        buffer[: len(data)] = data
        self.left -= len(data)
        return len(data)

    def close(self) -> None:
        self.handle.close()
        super().close()


def open_lms(browser, origin: str, version: str, seed: dict | None = None):
    import json
    from urllib.parse import quote

    context = browser.new_context(viewport={"width": 1000, "height": 820})
    requests = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    url = f"{origin}/lms.html?version={version}"
    if seed:
        url += "#" + quote(json.dumps(seed))
    page.goto(url)
    page.wait_for_function("window.lms && window.lms.initialized")
    frame = page.frame_locator("#sco")
    frame.locator("#lesson-video").wait_for()
    return context, page, frame, requests, errors


def player(page):
    return page.frames[1]


KEYS = {
    "1.2": {
        "location": "cmi.core.lesson_location",
        "status": "cmi.core.lesson_status",
        "session": "cmi.core.session_time",
        "exit": "cmi.core.exit",
        "score": "cmi.core.score.raw",
    },
    "2004": {
        "location": "cmi.location",
        "status": "cmi.completion_status",
        "session": "cmi.session_time",
        "exit": "cmi.exit",
        "score": "cmi.score.raw",
    },
}


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_a_lesson_package_runs_in_scorm_again(browser, lms_root, lms_server, version):
    _, unpack = lms_root
    unpack(version)
    keys = KEYS[version]

    # Session 1: a quarter watched, then "Save and exit".
    context, page, frame, requests, errors = open_lms(browser, lms_server, version)
    values = lambda: page.evaluate("window.lms.values")  # noqa: E731
    assert values()[keys["status"]] == "incomplete"
    assert frame.locator("#disclosure").inner_text().startswith("This video is AI-generated")
    assert frame.locator("#verify-link").get_attribute("href") == (
        "https://likeness.example/verify/abc"
    )
    frame.locator("#lesson-video").evaluate("v => { v.muted = true; return v.play(); }")
    player(page).wait_for_function("Number(document.getElementById('watched-bar').value) >= 25")
    frame.locator("#lesson-video").evaluate("v => v.pause()")
    assert frame.locator("#quiz").is_hidden()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"scorm-{version}-playing.png"))
    frame.locator("#save-exit").click()
    page.wait_for_function("window.lms.terminated")
    first = values()
    assert first[keys["status"]] == "incomplete"
    assert 0.8 <= float(first[keys["location"]]) < 2.0
    if version == "2004":
        assert 0.25 <= float(first["cmi.progress_measure"]) < 0.5
        assert first["cmi.session_time"].startswith("PT0H0M")
    else:
        assert first["cmi.core.session_time"].startswith("0000:00:")
    assert first[keys["exit"]] == "suspend"
    assert len(first["cmi.suspend_data"]) <= 4096
    context.close()

    # Session 2: resumes at the saved place with what was watched, completes at half, quiz.
    seed = {
        keys["location"]: first[keys["location"]],
        "cmi.suspend_data": first["cmi.suspend_data"],
        keys["status"]: "incomplete",
    }
    if version == "1.2":
        seed["cmi.core.entry"] = "resume"
    context, page, frame, requests2, errors2 = open_lms(browser, lms_server, version, seed)
    player(page).wait_for_function(
        "document.getElementById('lesson-video').readyState >= 1"
        " && document.getElementById('lesson-video').currentTime > 0.5"
    )
    resumed_at = frame.locator("#lesson-video").evaluate("v => v.currentTime")
    assert resumed_at == pytest.approx(float(first[keys["location"]]), abs=0.3)
    assert frame.locator("#watched-bar").evaluate("b => b.value") >= 20  # restored, not replayed
    frame.locator("#lesson-video").evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function(f"window.lms.values['{keys['status']}'] === 'completed'")
    frame.locator("#lesson-video").evaluate("v => v.pause()")
    done = values()
    if version == "2004":
        assert float(done["cmi.progress_measure"]) >= 0.5
    frame.locator("#quiz").wait_for(state="visible")
    # 1.2 answers wrong (failed), 2004 right (passed): both report a score.
    choice = 0 if version == "1.2" else 1
    frame.locator(f"input[name=q0][value='{choice}']").check()
    frame.get_by_role("button", name="Submit answers").click()
    expected = "failed" if version == "1.2" else "passed"
    page.wait_for_function(f"window.lms.values['{keys['score']}'] !== undefined")
    final = values()
    assert final[keys["score"]] == ("0" if version == "1.2" else "100")
    if version == "2004":
        assert final["cmi.success_status"] == expected
        assert final["cmi.score.scaled"] == "1.0000"
    else:
        assert final["cmi.core.lesson_status"] == expected
    page.screenshot(path=str(SHOTS / f"scorm-{version}-quiz.png"))
    frame.locator("#save-exit").click()
    page.wait_for_function("window.lms.terminated")
    assert values()[keys["exit"]] == ("normal" if version == "2004" else "")
    context.close()

    for url in requests + requests2:
        assert url.startswith(lms_server), f"the package asked for {url}"
    assert errors == [] and errors2 == []
