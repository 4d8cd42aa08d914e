"""The wheel is deployable: it builds without a setuptools warning, holds every module and
data file of the checkout (the top-level migrations/ as jsonapi_server.migrations), and once
installed in a new virtualenv outside the checkout it migrates a fresh PostgreSQL database
and serves /readyz from gunicorn."""

import os
import re
import shutil
import site
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from .conftest import TEST_SETTINGS, scratch_database
from .served import free_port

ROOT = Path(__file__).resolve().parents[1]
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "instance", ".*cache"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> tuple[Path, str]:
    """The wheel built from a copy of the checkout (no stale build/ can slip into it), and
    what the build printed."""
    directory = tmp_path_factory.mktemp("wheel")
    source = directory / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-v",
            "-w",
            str(directory / "dist"),
            str(source),
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    [path] = (directory / "dist").glob("jsonapi_server-*.whl")
    return path, built.stdout + built.stderr


def test_the_wheel_builds_without_a_warning(wheel):
    _path, output = wheel
    warnings = [line for line in output.splitlines() if re.search(r"(?i)warn|!!", line)]
    assert not warnings, "\n".join(warnings)


def shipped_files() -> set[str]:
    """What the wheel must hold: every file of the packages, migrations/ under the package."""
    expected = set()
    for top, inside in (("jsonapi_server", "jsonapi_server"), ("schemas", "schemas")):
        expected |= {
            f"{inside}/{p.relative_to(ROOT / top).as_posix()}"
            for p in (ROOT / top).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }
    expected |= {
        f"jsonapi_server/migrations/{p.relative_to(ROOT / 'migrations').as_posix()}"
        for p in (ROOT / "migrations").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    return expected


def test_the_wheel_holds_every_module_migration_and_template(wheel):
    path, _output = wheel
    names = set(zipfile.ZipFile(path).namelist())
    expected = shipped_files()
    assert {
        "jsonapi_server/migrations/alembic.ini",
        "jsonapi_server/migrations/env.py",
        "jsonapi_server/migrations/versions/0001_users_and_revoked_sessions.py",
        "jsonapi_server/templates/email/invite.txt",
        "jsonapi_server/templates/email/invite.html",
    } <= expected
    assert expected - names == set()
    assert not [n for n in names if n.startswith(("tests/", "bench/", "migrations/"))]


def readyz(port: int, process: subprocess.Popen, seconds: float = 60) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            url = f"http://127.0.0.1:{port}/readyz"
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.status == 200
                return response.read()
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("gunicorn did not answer")


def test_an_installed_wheel_migrates_postgresql_and_serves(wheel, tmp_path):
    path, _output = wheel
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # The test virtualenv's packages stand in for the dependencies (no download): its
    # site-packages is put on the new one's path, after the new one's own (a plain path in a
    # .pth file: the .pth files in it, the checkout's editable install among them, do not run).
    # The package itself comes from the wheel, installed into the new virtualenv.
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    own_site = venv / "lib" / version / "site-packages"
    (own_site / "test-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    python = str(venv / "bin" / "python")
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(path),
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=300,
    )
    port = free_port()
    with scratch_database("jsonapi_server_wheel") as database_url:
        environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        environment.update(
            DATABASE_URL=database_url,
            JWT_SECRET_KEY=TEST_SETTINGS["JWT_SECRET_KEY"],
            GUNICORN_BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY="1",
        )

        def run(*arguments):
            return subprocess.run(
                [python, *arguments],
                cwd=tmp_path,  # outside the checkout: nothing of it on sys.path
                env=environment,
                capture_output=True,
                text=True,
                timeout=120,
            )

        probe = run(
            "-c",
            "import jsonapi_server as p; from jsonapi_server import create_app; "
            "create_app().jinja_env.get_template('email/invite.html'); "
            "print(p.__file__); print(p.MIGRATIONS_DIRECTORY)",
        )
        assert probe.returncode == 0, probe.stderr
        package, migrations = probe.stdout.split()
        assert Path(package).is_relative_to(venv), package
        assert Path(migrations).is_relative_to(venv), migrations
        assert not Path(package).is_relative_to(ROOT)

        upgraded = run("-m", "flask", "--app", "jsonapi_server", "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        assert "Running upgrade 0003 -> 0004" in upgraded.stderr

        gunicorn = subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "-c",
                "python:jsonapi_server.gunicorn_conf",
                "jsonapi_server.wsgi:app",
            ],
            cwd=tmp_path,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert b'"database":"ok"' in readyz(port, gunicorn)
        finally:
            gunicorn.terminate()
            gunicorn.wait(timeout=60)
