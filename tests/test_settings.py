import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x7Qp-9vLm2Rt8sWz4YbN6cJh3KdF5gTa1UeXo0PiAq_rVsBwCyDzEnGmHl",
    "ALLOWED_HOSTS": "likeness.example.com",
    "HTTPS": "1",
    "LIKENESS_MASTER_KEY": "q2b4fDZk0n6Yh0pW3u8sR1xT5cV9aE7gJ2mL4nB6dK8=",
}


def _check_deploy(extra_env, tmp_path):
    env = {**os.environ, "LIKENESS_VAR_DIR": str(tmp_path), **extra_env}
    for inherited in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(inherited, None)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_production_variables_pass_check_deploy_with_no_issues(tmp_path):
    result = _check_deploy(PRODUCTION, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_development_defaults_are_flagged_by_check_deploy(tmp_path):
    result = _check_deploy({"DEBUG": "1"}, tmp_path)
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on


def test_a_misspelled_boolean_is_an_error_not_a_silent_default(monkeypatch):
    from config.env import envbool

    monkeypatch.setenv("HTTPS", "yess")
    try:
        envbool("HTTPS")
    except ValueError as error:
        assert "HTTPS" in str(error)
    else:
        raise AssertionError("envbool accepted 'yess'")


def test_the_generated_secret_key_is_kept_outside_git(tmp_path):
    env = {**os.environ, "LIKENESS_VAR_DIR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); "
        "django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
    )
    first = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert len(first) >= 50
    assert (tmp_path / "secret_key").read_text().strip() == first
    assert "var/" in (ROOT / ".gitignore").read_text()


def _in_a_fresh_process(code, tmp_path, **extra_env):
    env = {**os.environ, "LIKENESS_VAR_DIR": str(tmp_path), **extra_env}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    setup = "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; "
    setup += "django.setup(); "
    return subprocess.run(
        [sys.executable, "-c", setup + code], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_two_web_processes_share_the_verify_rate_limit(tmp_path):
    """Each gunicorn worker is its own process: a per-process counter would let a client make
    VERIFY_RATE_PER_MINUTE checks per worker. The default cache is a folder they all share."""
    code = (
        "import time; time.time = lambda: 1_700_000_000.0; "
        "from django.test import RequestFactory; from provenance.ratelimit import allow; "
        "request = RequestFactory().post('/verify', REMOTE_ADDR='203.0.113.9'); "
        "print([allow(request, 'verify', 3) for _ in range(2)])"
    )
    first = _in_a_fresh_process(code, tmp_path)
    second = _in_a_fresh_process(code, tmp_path)
    assert first.stdout.strip() == "[True, True]", first.stderr
    assert second.stdout.strip() == "[True, False]", second.stderr


def test_cache_url_takes_redis_and_refuses_anything_else(tmp_path):
    show = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    redis = _in_a_fresh_process(show, tmp_path, CACHE_URL="redis://127.0.0.1:6379/1")
    assert redis.stdout.strip() == "django.core.cache.backends.redis.RedisCache", redis.stderr
    wrong = _in_a_fresh_process(show, tmp_path, CACHE_URL="memcached://127.0.0.1:11211")
    assert wrong.returncode != 0 and "CACHE_URL" in wrong.stderr


def test_check_deploy_refuses_a_generated_master_key(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "LIKENESS_MASTER_KEY"}
    result = _check_deploy(env, tmp_path)
    assert result.returncode != 0
    assert "LIKENESS_MASTER_KEY" in result.stderr + result.stdout
