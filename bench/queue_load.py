"""Queue load: 300 short renders from 3 workspaces (one submits a batch of 280) on 2 worker
processes. Prints one JSON object: completed, duplicates, lost, jobs per minute, p50/p95 wait per
workspace, and the small workspaces' p95 wait as a multiple of their render time (goal <= 2).

Run: ``python -m bench.queue_load [--batch 280 --small 10 --workers 2]`` from the repository root.
It uses its own temporary database and media folder; the site's data is untouched.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=280, help="jobs of the big workspace")
    parser.add_argument("--small", type=int, default=10, help="jobs of each small workspace")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--spacing",
        type=float,
        default=4.0,
        help="seconds between a small workspace's submissions (single videos, not a batch)",
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="likeness-queue-"))
    os.environ.update(
        LIKENESS_VAR_DIR=str(folder),
        DATABASE_URL=f"sqlite:///{folder / 'bench.sqlite3'}",
        MEDIA_ROOT=str(folder / "media"),
        RENDER_WIDTH="128",
        RENDER_HEIGHT="128",
        TASK_BACKEND="database",
    )
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True)
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from rendering.models import RenderJob, Video

    workspaces = _make_workspaces(3)
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--queue-name",
                "*",
                "--no-reload",
                "--interval",
                "0.1",
                "--no-startup-delay",
                "-v",
                "0",
            ],
            cwd=ROOT,
            env=os.environ.copy(),
        )
        for _ in range(args.workers)
    ]
    started = time.monotonic()
    try:
        big, *small = workspaces
        for _ in range(args.batch):
            _submit(big)
        # Workers warm up (models load on a worker's first render) before the timing that matters.
        while RenderJob.objects.filter(status="succeeded").count() < args.workers:
            time.sleep(0.2)
        # The small workspaces submit one video now and then while the batch runs.
        for round_ in range(args.small):
            for workspace in small:
                _submit(workspace)
            time.sleep(args.spacing if round_ < args.small - 1 else 0)
            print(
                f"submitted {round_ + 1}/{args.small} small rounds; "
                f"{RenderJob.objects.filter(status='succeeded').count()} done",
                file=sys.stderr,
            )
        total = args.batch + args.small * len(small)
        while RenderJob.objects.exclude(status__in=RenderJob.FINISHED).exists():
            time.sleep(0.5)
            done = RenderJob.objects.filter(status="succeeded").count()
            print(f"\r{done}/{total} rendered", end="", file=sys.stderr)
        wall = time.monotonic() - started
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    print(file=sys.stderr)

    jobs = list(RenderJob.objects.all())
    per_workspace = {}
    for label, workspace in zip(["big", "small_1", "small_2"], workspaces, strict=True):
        mine = [j for j in jobs if j.workspace_id == workspace.workspace.pk and j.started_at]
        waits = [(j.started_at - j.created_at).total_seconds() for j in mine]
        renders = [(j.finished_at - j.started_at).total_seconds() for j in mine if j.finished_at]
        per_workspace[label] = {
            "jobs": len(mine),
            "p50_wait_seconds": round(percentile(waits, 50), 2),
            "p95_wait_seconds": round(percentile(waits, 95), 2),
            "mean_render_seconds": round(statistics.mean(renders), 2) if renders else None,
        }
    small_ratios = [
        per_workspace[k]["p95_wait_seconds"] / per_workspace[k]["mean_render_seconds"]
        for k in ("small_1", "small_2")
        if per_workspace[k]["mean_render_seconds"]
    ]
    completed = sum(1 for j in jobs if j.status == "succeeded")
    return {
        "jobs": len(jobs),
        "workers": args.workers,
        "completed": completed,
        "duplicates": sum(1 for j in jobs if j.attempts > 1) + (Video.objects.count() - completed),
        "lost": sum(1 for j in jobs if j.status != "succeeded"),
        "wall_seconds": round(wall, 1),
        "jobs_per_minute": round(60 * completed / wall, 1),
        "per_workspace": per_workspace,
        "small_p95_wait_over_render_time": round(max(small_ratios), 2) if small_ratios else None,
    }


def _make_workspaces(count: int):
    from types import SimpleNamespace

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from accounts.services import create_workspace
    from consent.models import ConsentDocument, Purpose, Subject
    from consent.services import Evidence, record_illustration_consent
    from rendering.demo import _create_demo_avatar
    from studio.models import Script

    made = []
    for index in range(count):
        user = get_user_model().objects.create_user(username=f"bench{index}")
        workspace = create_workspace(name=f"Bench {index}", owner=user)
        subject = Subject.objects.create(
            workspace=workspace,
            full_name=f"Bench Presenter {index}",
            email=f"b{index}@likeness.invalid",
        )
        grant = record_illustration_consent(  # the engine's drawn presenter: no person
            subject=subject,
            document=ConsentDocument.standard(),
            purposes=[p.value for p in Purpose],
            valid_from=timezone.now() - timezone.timedelta(minutes=1),
            valid_until=timezone.now() + timezone.timedelta(days=1),
            recorded_by=user,
            evidence=Evidence(user_agent="bench"),
        )
        avatar = _create_demo_avatar(workspace, grant, user)
        script = Script.objects.create(workspace=workspace, title="Short", body="Hello there.")
        made.append(SimpleNamespace(user=user, workspace=workspace, avatar=avatar, script=script))
    return made


def _submit(ws) -> None:
    from consent.models import Purpose
    from rendering.services import submit_render

    submit_render(
        workspace=ws.workspace,
        user=ws.user,
        avatar=ws.avatar,
        script=ws.script,
        purpose=Purpose.INTERNAL,
    )


if __name__ == "__main__":
    print(json.dumps(main()))
