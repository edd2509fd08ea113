"""The compose file can't be run here (no Docker engine); check it against what the code reads."""

import re
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
OUR_DOCKERFILES = {"docker/Dockerfile", "docker/Dockerfile.gpu"}
ONE_SHOT = {"migrate", "minio-bucket"}


def variables_the_settings_read() -> set[str]:
    source = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r'env(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', source))


def our_services():
    for name, service in COMPOSE["services"].items():
        build = service.get("build")
        if build and build["dockerfile"] in OUR_DOCKERFILES:
            yield name, service


def test_every_service_of_ours_has_a_command_that_exists():
    commands = get_commands()
    names = []
    for name, service in our_services():
        command = service["command"]
        if command[:2] == ["python", "manage.py"]:
            assert command[2] in commands, f"{name}: manage.py {command[2]} does not exist"
        elif command[0] == "celery":
            assert command[1:4] == ["-A", "config.celery", "worker"], name
        else:
            assert command[0] == "gunicorn" and command[1] == "config.wsgi", name
        names.append(name)
    assert {"web", "worker", "gpu-worker", "migrate"} <= set(names)


@pytest.mark.parametrize("name", [n for n, _ in our_services()])
def test_every_variable_given_to_our_services_is_one_the_settings_read(name):
    service = COMPOSE["services"][name]
    unknown = set(service["environment"]) - variables_the_settings_read()
    assert not unknown, f"{name} sets variables nothing reads: {sorted(unknown)}"


def test_the_site_gets_the_production_variables_check_deploy_needs():
    env = COMPOSE["services"]["web"]["environment"]
    assert env["DEBUG"] == "0"
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "STORAGE"} <= set(env)
    assert env["DATABASE_URL"].startswith("postgres://") and env["STORAGE"] == "s3"


def test_long_running_services_have_health_checks():
    for name, service in COMPOSE["services"].items():
        if name not in ONE_SHOT:
            assert "healthcheck" in service, f"{name} has no health check"


def test_workers_listen_on_the_queues_the_tasks_use():
    from django.conf import settings

    from rendering.tasks import render_job

    assert render_job.queue_name == settings.RENDER_QUEUE
    for name in ("worker", "gpu-worker"):
        command = COMPOSE["services"][name]["command"]
        queues = command[command.index("-Q") + 1].split(",")
        assert settings.RENDER_QUEUE in queues, name
        assert set(queues) <= set(settings.TASK_QUEUES), name


def test_the_celery_app_is_configured_for_long_renders():
    from config.celery import app

    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit
