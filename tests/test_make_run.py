"""`make run`, the README's first command, says the site is running only once it answers."""

import os
import signal
import socket
import subprocess
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Generous: set-up, the demo workspace and three servers on a busy 2-core machine. The alarm only
# ends a hang; what is tested is the order of "running" and answering, not speed.
STARTUP_SECONDS = 600
# What a test run sets that `make run` must not inherit (a test database, a test store...).
INHERITED = ("DATABASE_URL", "DJANGO_", "STORAGE", "S3_", "REDIS", "CELERY", "LIKENESS_")


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_make_run_says_running_only_once_the_site_answers(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(INHERITED)}
    env.update(PORT=str(port), LIKENESS_VAR_DIR=str(tmp_path / "var"))
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # one process group: web, worker and sweeper end with it
    )

    def expired(signum, frame):
        raise TimeoutError(f"make run said nothing about running within {STARTUP_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(STARTUP_SECONDS)
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if "Likeness is running at" in line:
                break
        else:
            pytest.fail("make run ended without saying it runs:\n" + "".join(seen[-30:]))
        assert f"http://127.0.0.1:{port}/" in seen[-1]
        # Said only once it answers: at once, the site is there.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
