import json
import shutil
import sys
import threading
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from consent.models import Purpose
from rendering.demo import ensure_demo
from rendering.models import RenderJob
from rendering.services import RenderRefused, submit_render
from rendering.workers import run_task_in_thread, uses_database_backend


class Command(BaseCommand):
    help = (
        "Render the demo script with the demo avatar through the configured task backend, wait for "
        "it (running it in this process if no worker picks it up) and print one JSON line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, type=Path, help="Where to copy the MP4.")
        parser.add_argument(
            "--worker-wait",
            type=float,
            default=5.0,
            help="Seconds to wait for a running worker before rendering in this process.",
        )
        parser.add_argument(
            "--timeout", type=float, default=900.0, help="Give up after this many seconds."
        )

    def handle(self, *args, out: Path, worker_wait: float, timeout: float, **options):
        if out.exists() and out.is_dir():
            raise CommandError(f"--out {out} is a directory; give a file path ending in .mp4.")
        demo = ensure_demo()
        started = time.monotonic()
        try:
            job = submit_render(
                workspace=demo.workspace,
                user=demo.user,
                avatar=demo.avatar,
                script=demo.script,
                purpose=Purpose.INTERNAL,
            )
        except RenderRefused as refusal:
            raise CommandError(f"The demo render was refused: {refusal}") from refusal
        self._wait(job, started=started, worker_wait=worker_wait, timeout=timeout)
        wall = time.monotonic() - started
        job.refresh_from_db()
        summary = {
            "job": job.pk,
            "status": job.status,
            "wall_seconds": round(wall, 2),
            "video_seconds": None,
            "path": None,
        }
        if job.status == RenderJob.Status.SUCCEEDED:
            out.parent.mkdir(parents=True, exist_ok=True)
            with job.video.file.open("rb") as source, open(out, "wb") as target:
                shutil.copyfileobj(source, target)
            summary.update(video_seconds=round(job.video.seconds, 3), path=str(out.resolve()))
        else:
            summary["error"] = job.error
        self.stdout.write(json.dumps(summary))
        if job.status != RenderJob.Status.SUCCEEDED:
            sys.exit(1)

    def _wait(self, job: RenderJob, *, started: float, worker_wait: float, timeout: float) -> None:
        ran_here, last_line = False, ""
        while True:
            job.refresh_from_db()
            line = f"render #{job.pk}: {job.status} {job.stage} {job.percent}%"
            if line != last_line:
                self.stderr.write(line)  # progress for people; stdout keeps the one JSON line
                last_line = line
            if job.is_finished:
                return
            waited = time.monotonic() - started
            if waited > timeout:
                raise CommandError(f"Render #{job.pk} did not finish within {timeout:.0f} s.")
            if (
                job.status == RenderJob.Status.QUEUED
                and not ran_here
                and waited > worker_wait
                and job.task_id
                and uses_database_backend()
            ):
                self.stderr.write("No worker picked the render up; rendering in this process.")
                # A thread, so this loop keeps printing progress while the render runs.
                threading.Thread(
                    target=run_task_in_thread, args=(job.task_id,), daemon=True
                ).start()
                ran_here = True
            time.sleep(0.25)
