"""TASK_BACKEND=celery for real: a redis-server, a Celery worker process and the site's own
command, each its own process, as on a render farm."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.media import ffprobe

ROOT = Path(__file__).resolve().parent.parent
CELERY = Path(sys.executable).with_name("celery")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


class Redis:
    def __init__(self, folder: Path):
        self.folder, self.port, self.process = folder, free_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        # appendonly: queued renders survive a broker restart.
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def farm(tmp_path):
    """Environment for a site whose tasks go through Celery on a fresh Redis."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: scripts/setup.sh installs Debian's redis-server.")
    redis = Redis(tmp_path)
    redis.start()
    env = {
        **os.environ,
        "LIKENESS_VAR_DIR": str(tmp_path / "var"),
        "TASK_BACKEND": "celery",
        "CELERY_BROKER_URL": redis.url,
        "RENDER_WIDTH": "256",
        "RENDER_HEIGHT": "256",
    }
    for inherited in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(inherited, None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    workers = []

    def start_worker(name: str) -> subprocess.Popen:
        worker = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "config.celery",
                "worker",
                "-Q",
                "gpu,default",
                "--concurrency",
                "1",
                "--prefetch-multiplier",
                "1",
                "-n",
                f"{name}@%h",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        workers.append(worker)
        return worker

    yield env, redis, start_worker
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
    redis.stop()


def demo_render(env, out: Path, *, worker_wait: float = 60) -> dict:
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "demo_render",
            "--out",
            str(out),
            "--worker-wait",
            str(worker_wait),
            "--timeout",
            "300",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_render_submitted_by_the_site_is_rendered_by_a_celery_worker(farm, tmp_path):
    env, _redis, start_worker = farm
    worker = start_worker("gpu1")
    summary = demo_render(env, tmp_path / "demo.mp4")
    assert summary["status"] == "succeeded"
    info = ffprobe(tmp_path / "demo.mp4")
    assert float(info["format"]["duration"]) == pytest.approx(summary["video_seconds"], abs=0.1)
    worker.send_signal(signal.SIGTERM)
    log = worker.communicate(timeout=60)[0]
    assert "rendering.tasks.render_job" in log and "succeeded" in log


def test_a_render_queued_while_the_broker_restarts_is_not_lost(farm, tmp_path):
    env, redis, start_worker = farm
    submit = subprocess.Popen(  # the site enqueues with no worker running yet
        [
            sys.executable,
            "manage.py",
            "demo_render",
            "--out",
            str(tmp_path / "late.mp4"),
            "--worker-wait",
            "600",
            "--timeout",
            "300",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def queued_renders() -> int:
        """Messages waiting in the render queue (a Redis list named after it)."""
        answer = subprocess.run(
            ["redis-cli", "-p", str(redis.port), "LLEN", "gpu"], capture_output=True, text=True
        )
        return int(answer.stdout.strip() or 0)

    deadline = time.monotonic() + 60
    while queued_renders() == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    # The broker holds the render before it restarts: what follows tests that it survives.
    assert queued_renders() == 1, "the render never reached the broker's queue"
    redis.stop()
    redis.start()
    assert queued_renders() == 1, "the restart lost the queued render"
    start_worker("after-restart")
    out, err = submit.communicate(timeout=300)
    assert submit.returncode == 0, err[-3000:]
    assert json.loads(out.strip().splitlines()[-1])["status"] == "succeeded"
