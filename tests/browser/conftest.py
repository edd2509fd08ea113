import os
import subprocess
import threading
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run scripts/setup.sh, which installs Debian's chromium.")
    # Playwright's sync API runs an event loop in this thread; the test still calls the ORM.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]  # it would leak into other tests' subprocesses


def watch_csp_refusals(context) -> list[str]:
    """The browser's console reports of what the Content-Security-Policy refused in this context
    (an inline script or style, a handler attribute, a source not allowed): a page that needs one
    works in a test's eyes only if this stays empty."""
    refused = []

    def on_console(message):
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    context.on("console", on_console)
    return refused


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    refused = watch_csp_refusals(context)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()
    assert refused == [], "the Content-Security-Policy refused something the pages need"


@pytest.fixture
def render_worker(transactional_db):
    """A real django-tasks-db worker loop in a thread, as `manage.py db_worker` would run it."""
    from django.db import connections
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["*"],
        interval=0.2,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="browser-test",
        excluded_queue_names=[],
    )

    def run():
        try:
            worker.run()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield worker
    worker.running = False
    thread.join(timeout=60)


@pytest.fixture
def fake_media_browser():
    """launch(video, audio) → a Chromium whose camera and microphone play those files."""
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = []

            def launch(video: Path, audio: Path):
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM),
                    args=[
                        *CHROMIUM_ARGS,
                        "--use-fake-device-for-media-stream",
                        "--use-fake-ui-for-media-stream",
                        f"--use-file-for-fake-video-capture={video}",
                        f"--use-file-for-fake-audio-capture={audio}",
                    ],
                )
                launched.append(browser)
                return browser

            yield launch
            for browser in launched:
                browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def camera_y4m(clip: Path, out: Path) -> Path:
    """A clip the tests made, as the 640x480 y4m Chromium's fake camera plays (and loops)."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-an",
         "-vf", "scale=-2:480,pad=640:480:(ow-iw)/2:0", "-pix_fmt", "yuv420p",
         "-f", "yuv4mpegpipe", str(out)],
        check=True,
    )  # fmt: skip
    return out
