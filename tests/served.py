"""The application served as production serves it, for tests that need real processes: a
fresh database built by the migrations and gunicorn with several workers on a loopback port."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from .conftest import TEST_SETTINGS, scratch_database

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


class Server:
    """A served application: its port and its database's URL."""

    def __init__(self, port: int, database_url: str):
        self.port = port
        self.database_url = database_url

    def call(self, method: str, path: str, document=None, token: str | None = None):
        """One request on a connection of its own: (status, headers, parsed body or None)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Content-Type": "application/vnd.api+json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        body = None if document is None else json.dumps(document)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        return response.status, dict(response.getheaders()), json.loads(raw) if raw else None

    def register(self, email: str, password: str = "long enough password") -> str:
        """A new account's access token."""
        document = {"data": {"type": "users", "attributes": {"email": email, "password": password}}}
        status, _headers, body = self.call("POST", "/api/v2/users", document)
        assert status == 201, body
        return body["meta"]["access_token"]


@contextmanager
def gunicorn(directory: Path, database_url: str, *, workers: int = 4, environment=None):
    """gunicorn from the project root (reading ./gunicorn.conf.py, as production does) with
    `workers` processes over the migrated database at `database_url`. Nothing it logged may be
    a traceback: a 500 no answer showed fails the test that served it."""
    port = free_port()
    log_path = directory / "gunicorn.log"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": TEST_SETTINGS["JWT_SECRET_KEY"],
        "PASSWORD_HASH_METHOD": TEST_SETTINGS["PASSWORD_HASH_METHOD"],
        "RATELIMIT_ENABLED": "false",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        **(environment or {}),
    }
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "wsgi:app"],
            env=environment,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            wait_for_port(port, process)
            yield Server(port, database_url)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    logged = log_path.read_text()
    assert "Traceback" not in logged, logged[logged.find("Traceback") :][:4000]


def migrate(database_url: str) -> None:
    subprocess.run(
        [str(BIN / "flask"), "--app", "jsonapi_server", "db", "upgrade"],
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )


@contextmanager
def served(
    directory: Path, *, workers: int = 4, prefix: str = "jsonapi_server_served", environment=None
):
    """gunicorn with `workers` processes over a fresh database built by the migrations."""
    with scratch_database(prefix) as database_url:
        migrate(database_url)
        with gunicorn(directory, database_url, workers=workers, environment=environment) as server:
            yield server
