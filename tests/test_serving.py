"""Serving as `make run` and gunicorn do: stopping make (SIGTERM to its PID, or Ctrl-C to the
terminal's process group) stops gunicorn and the outbox worker; every line gunicorn writes on
stderr is JSON, in the shape of the application's request line."""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .served import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WIRE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def get(port: int, path: str, headers=None) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_until_served(port: int, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode} before serving")
        with contextlib.suppress(OSError):  # not listening yet
            if get(port, "/healthz") == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing served on {port}")


def process_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, start time) of every process, from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), fields[0], fields[19])
    return table


def descendants(pid: int) -> dict[int, str]:
    """The processes below `pid`, each with its start time (so a reused pid is not them)."""
    table = process_table()
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, _state, started) in table.items():
            if ppid == parent and child not in found:
                found[child] = started
                frontier.append(child)
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def still_running(processes: dict[int, str]) -> list[int]:
    table = process_table()
    return [
        pid
        for pid, started in processes.items()
        # a zombie has ended; only its parent's wait is missing
        if pid in table and table[pid][2] == started and table[pid][1] != "Z"
    ]


@pytest.mark.parametrize("stop", ["SIGTERM to make", "Ctrl-C"])
def test_stopping_make_run_stops_gunicorn_and_the_outbox_worker(stop, tmp_path):
    port = free_port()
    environment = {
        **os.environ,
        "JSONAPI_SERVER_INSTANCE_PATH": str(tmp_path / "instance"),
        "WEB_CONCURRENCY": "2",
    }
    environment.pop("DATABASE_URL", None)  # make run's own SQLite, in the instance folder
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}", f"BIN={BIN}"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        wait_until_served(port, make)
        children = descendants(make.pid)
        commands = [command_line(pid) for pid in children]
        assert sum("gunicorn" in c for c in commands) >= 3, commands  # master and two workers
        assert any("outbox run" in c for c in commands), commands
        if stop == "Ctrl-C":
            os.killpg(make.pid, signal.SIGINT)
        else:
            make.send_signal(signal.SIGTERM)
        make.wait(timeout=60)
        deadline = time.monotonic() + 30
        while still_running(children) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = still_running(children)
        assert not left, [command_line(pid) for pid in left]
        assert (tmp_path / "instance" / "jsonapi_server.sqlite3").exists()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(make.pid, signal.SIGKILL)
        make.wait(timeout=10)


def test_every_gunicorn_line_is_json_in_the_request_lines_shape(tmp_path):
    port = free_port()
    environment = {
        **os.environ,
        "JSONAPI_SERVER_INSTANCE_PATH": str(tmp_path / "instance"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_ACCESS_LOG": "1",
    }
    environment.pop("DATABASE_URL", None)
    stderr_path = tmp_path / "gunicorn.stderr"
    with open(stderr_path, "w") as stderr:
        # in the project root, gunicorn reads ./gunicorn.conf.py by itself
        gunicorn = subprocess.Popen(
            [str(BIN / "gunicorn"), "wsgi:app"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            wait_until_served(port, gunicorn)
            assert get(port, "/api/v2/nothing?code=a-secret", {"X-Request-ID": "log-1"}) == 404
        finally:
            gunicorn.send_signal(signal.SIGTERM)
            gunicorn.wait(timeout=60)
    text = stderr_path.read_text()
    assert "a-secret" not in text
    lines = [json.loads(line) for line in text.splitlines()]  # each one is JSON
    messages = {line.get("message") for line in lines if line.get("logger") == "gunicorn.error"}
    assert any(m.startswith("Listening at") for m in messages), messages
    assert any(m.startswith("Booting worker") for m in messages), messages
    for line in lines:
        assert WIRE_TIME.match(line["time"]), line
        if "logger" in line:
            assert {"level", "message"} <= line.keys(), line
    [app_line] = [line for line in lines if "logger" not in line and line["request_id"] == "log-1"]
    [access] = [
        line
        for line in lines
        if line.get("logger") == "gunicorn.access" and line["request_id"] == "log-1"
    ]
    assert (access["level"], access["message"]) == ("info", "request")
    shared = ("request_id", "method", "path", "status")
    assert {key: access[key] for key in shared} == {key: app_line[key] for key in shared}
    assert app_line["path"] == "/api/v2/nothing" and app_line["status"] == 404
    assert access["duration_ms"] >= app_line["duration_ms"] >= 0
