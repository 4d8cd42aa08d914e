"""Settings the app refuses to start with: a JSONAPI_SERVER_ENV it does not know, and
production without what it cannot run safely without. One line per problem on stderr, exit
non-zero, no traceback: from `flask` and from gunicorn, with its config or without."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jsonapi_server.config import ENVIRONMENT, load_settings, settings_problems

from .served import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SAFE_PRODUCTION = {
    "JSONAPI_SERVER_ENV": "production",
    "JWT_SECRET_KEY": "x" * 32,
    "DATABASE_URL": "postgresql://app@db.example.com/app",
    "MAIL_SERVER": "smtp.example.com",
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
    "PUBLIC_BASE_URL": "https://api.example.com",
}


def problems(**environ) -> list[str]:
    return settings_problems(load_settings(environ=environ))


def test_only_the_documented_environments():
    assert problems(JSONAPI_SERVER_ENV="development") == []
    assert problems(**SAFE_PRODUCTION) == []
    for wrong in ("Production", "prod", "testing", "DEVELOPMENT"):
        [line] = problems(JSONAPI_SERVER_ENV=wrong)
        assert line == f"JSONAPI_SERVER_ENV={wrong!r} is none of: development, production"


@pytest.mark.parametrize(
    ("variable", "value", "allowance", "named"),
    [
        ("DATABASE_URL", "sqlite:////srv/app.sqlite3", "ALLOW_UNSAFE_SQLITE", "SQLite"),
        (
            "RATELIMIT_STORAGE_URI",
            "memory://",
            "ALLOW_UNSAFE_MEMORY_RATE_LIMITS",
            "memory://",
        ),
        ("RATELIMIT_ENABLED", "false", "ALLOW_UNSAFE_NO_RATE_LIMITS", "RATELIMIT_ENABLED"),
        ("CORS_ORIGINS", "https://a.example.com, *", "ALLOW_UNSAFE_ANY_ORIGIN", "'*'"),
        ("PUBLIC_BASE_URL", "", "ALLOW_UNSAFE_HOST_HEADER", "TRUSTED_HOSTS"),
    ],
)
def test_each_unsafe_setting_is_refused_unless_its_risk_is_named(variable, value, allowance, named):
    [line] = problems(**{**SAFE_PRODUCTION, variable: value})
    assert line.startswith("JSONAPI_SERVER_ENV=production refuses to start: ")
    assert variable in line and named in line and allowance in line
    assert problems(**{**SAFE_PRODUCTION, variable: value, allowance: "1"}) == []
    # development is not refused any of them
    assert problems(**{variable: value}) == []


def test_trusted_hosts_may_stand_in_for_the_public_base_url():
    named = {**SAFE_PRODUCTION, "PUBLIC_BASE_URL": "", "TRUSTED_HOSTS": "api.example.com"}
    assert problems(**named) == []


def test_a_short_secret_is_refused_without_being_shown():
    [line] = problems(**{**SAFE_PRODUCTION, "JWT_SECRET_KEY": "short-secret"})
    assert "JWT_SECRET_KEY" in line and "short-secret" not in line


def clean_environment(**settings) -> dict:
    """This process's environment without any setting the app reads, plus `settings`."""
    environment = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT}
    return {**environment, **settings}


def run(command, environment, tmp_path) -> subprocess.CompletedProcess:
    environment = {**environment, "JSONAPI_SERVER_INSTANCE_PATH": str(tmp_path / "instance")}
    return subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


FLASK = [str(BIN / "flask"), "--app", "jsonapi_server"]
GUNICORN = [str(BIN / "gunicorn"), "--workers", "2"]
STARTS = {
    "flask db upgrade": lambda: [*FLASK, "db", "upgrade"],
    "flask outbox run": lambda: [*FLASK, "outbox", "run", "--once"],
    "flask routes": lambda: [*FLASK, "routes"],
    # ./gunicorn.conf.py: refused in the master, before any worker
    "gunicorn wsgi:app": lambda: [*GUNICORN, "--bind", f"127.0.0.1:{free_port()}", "wsgi:app"],
    # no config: each worker refuses, and gunicorn stops rather than fork another (one
    # worker: with two, the second's exit can meet gunicorn's own halt, which it reports
    # with a traceback of its arbiter)
    "gunicorn without config": lambda: [
        str(BIN / "gunicorn"),
        "--workers",
        "1",
        "--config",
        "python:tests.gunicorn_without_settings",
        "--bind",
        f"127.0.0.1:{free_port()}",
        "wsgi:app",
    ],
}


@pytest.mark.parametrize("start", STARTS)
def test_production_without_its_settings_prints_one_line_per_problem(start, tmp_path):
    started = run(STARTS[start](), clean_environment(JSONAPI_SERVER_ENV="production"), tmp_path)
    assert started.returncode != 0
    assert "Traceback" not in started.stderr + started.stdout
    lines = started.stderr.splitlines()
    for needed in (
        "JWT_SECRET_KEY",
        "DATABASE_URL",
        "MAIL_SERVER",
        "RATELIMIT_STORAGE_URI",
        "PUBLIC_BASE_URL",
    ):
        mentions = [line for line in lines if line.startswith("JSONAPI_SERVER_ENV=production")]
        assert any(needed in line for line in mentions), started.stderr
    if start != "gunicorn without config":  # there, once per worker that booted
        refusals = [line for line in lines if "refuses to start" in line]
        assert len(refusals) == len(set(refusals)) == 5, started.stderr


@pytest.mark.parametrize("start", ["flask routes", "gunicorn wsgi:app"])
def test_an_unknown_environment_is_refused_by_name(start, tmp_path):
    started = run(STARTS[start](), clean_environment(JSONAPI_SERVER_ENV="Production"), tmp_path)
    assert started.returncode != 0
    assert "Traceback" not in started.stderr
    assert (
        "JSONAPI_SERVER_ENV='Production' is none of: development, production"
        in started.stderr.splitlines()
    )
