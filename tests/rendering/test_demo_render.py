import io
import json

import pytest
from django.core.management import call_command

from engine.probe import probe
from tests.media import ffprobe

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_render_renders_through_the_queue_and_prints_one_json_line(tmp_path, settings):
    settings.RENDER_WIDTH = settings.RENDER_HEIGHT = 256
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "demo.mp4"

    call_command("demo_render", out=target, worker_wait=0.2, stdout=out, stderr=err)

    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["status"] == "succeeded"
    assert summary["path"] == str(target.resolve())
    assert summary["video_seconds"] == pytest.approx(
        float(ffprobe(target)["format"]["duration"]), abs=0.1
    )
    assert summary["wall_seconds"] > 0
    assert "rendering in this process" in err.getvalue()
    report = probe(target)
    assert report["visible_label"]["found"]
    assert report["synthetic"] is True


def test_demo_render_reuses_the_demo_objects(tmp_path, settings):
    from avatars.models import Avatar
    from rendering.demo import ensure_demo

    first, second = ensure_demo(), ensure_demo()
    assert first.avatar.pk == second.avatar.pk and first.workspace.pk == second.workspace.pk
    assert Avatar.objects.count() == 1
    assert first.grant.status == "active"
