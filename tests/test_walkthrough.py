"""README's "Trying it", run as a newcomer runs it: its first `sh` block (`make run`) serves the
API on a free port with a throwaway instance folder, and every later `sh` block runs, in
order, in one bash with `set -euo pipefail`; the answers each block prints are checked."""

import email
import email.policy
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .served import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Trying it"
BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
MARKER = "@@ walkthrough block {}"
DEFAULT_ORIGIN = "127.0.0.1:8000"
# The server's settings come from the walk-through's own defaults, not from the caller's shell.
FOREIGN = (
    "DATABASE_URL",
    "JWT_SECRET_KEY",
    "MAIL_SERVER",
    "JSONAPI_SERVER_ENV",
    "PUBLIC_BASE_URL",
    "TRUSTED_HOSTS",
    "HOST",
    "PORT",
)


def checkout_instance() -> list[tuple[str, int]] | None:
    """The checkout's own instance folder as it stands (names and modification times)."""
    folder = ROOT / "instance"
    if not folder.exists():
        return None
    return sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def walkthrough_blocks(readme: str) -> list[str]:
    start = readme.index(f"\n{SECTION}\n")
    end = readme.find("\n## ", start + 1)
    return BLOCK.findall(readme[start : end if end != -1 else None])


def test_the_section_is_a_walkthrough_against_make_run_and_api():
    blocks = walkthrough_blocks((ROOT / "README.md").read_text())
    assert blocks[0].strip() == "make run"
    client = "\n".join(blocks[1:])
    # One origin, set once: every request goes through $API, so the test moves it by one line.
    assert client.count(DEFAULT_ORIGIN) == 1
    assert "API=http://127.0.0.1:8000/api/v2" in blocks[1]
    assert "jq" not in client.split()
    assert all("curl -s" in line for line in client.splitlines() if "curl " in line)


def answers(output: str) -> list[tuple[int, dict | None]]:
    """What `curl -s -w '\\n%{http_code}\\n'` printed: each body (one line of JSON) with the
    status after it; a status alone (`-o /dev/null`) comes with None."""
    lines = output.splitlines()
    found, index = [], 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("{") and index + 1 < len(lines) and lines[index + 1].isdigit():
            found.append((int(lines[index + 1]), json.loads(line)))
            index += 2
            continue
        if re.fullmatch(r"[1-5]\d\d", line):
            found.append((int(line), None))
        index += 1
    return found


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`make run`, as the README's first block says, on a free port: SQLite, the JWT key and
    the mail in a temporary instance folder, never the checkout's."""
    directory = tmp_path_factory.mktemp("walkthrough")
    before = checkout_instance()
    instance = directory / "instance"
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k not in FOREIGN}
    environment.update(
        {"JSONAPI_SERVER_INSTANCE_PATH": str(instance), "HOST": "127.0.0.1", "PORT": str(port)}
    )
    blocks = walkthrough_blocks((ROOT / "README.md").read_text())
    with open(directory / "make-run.log", "w") as log:
        server = subprocess.Popen(
            ["bash", "-c", blocks[0]],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make, its worker and gunicorn: one group, stopped together
        )
        try:
            wait_for_port(port, server, seconds=120)
            yield {
                "port": port,
                "instance": instance,
                "environment": environment,
                "checkout_instance": before,
            }
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


@pytest.fixture(scope="module")
def walked(served):
    """Every later block in one bash, in order, each announced by a marker line."""
    blocks = walkthrough_blocks((ROOT / "README.md").read_text())[1:]
    origin = f"127.0.0.1:{served['port']}"
    script = "set -euo pipefail\n" + "".join(
        f"echo '{MARKER.format(number)}'\n{block.replace(DEFAULT_ORIGIN, origin)}\n"
        for number, block in enumerate(blocks)
    )
    finished = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env=served["environment"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stdout
    pieces = re.split(r"^@@ walkthrough block \d+\n", finished.stdout, flags=re.MULTILINE)
    assert len(pieces) == len(blocks) + 1, finished.stdout  # every block ran
    return list(zip(blocks, pieces[1:], strict=True))


def output_of(walked, command: str) -> str:
    """The output of the one block that holds `command`."""
    [output] = [output for block, output in walked if command in block]
    return output


def test_register_log_in_and_the_profile(walked):
    [(status, registered)] = answers(output_of(walked, '"password":"long enough","first_name"'))
    assert status == 201 and registered["data"]["type"] == "users"
    assert registered["meta"]["access_token"] and registered["meta"]["refresh_token"]
    [(status, profile)] = answers(output_of(walked, "ACCESS_TOKEN=$("))
    assert status == 200 and profile["data"]["attributes"]["email"] == "ann@example.com"


def test_organization_and_invite_are_created(walked):
    [(status, organization)] = answers(output_of(walked, "ORG_ID="))
    assert status == 201 and organization["data"]["attributes"]["members_count"] == 1
    [(status, invite)] = answers(output_of(walked, "INVITE_ID="))
    assert status == 201
    assert invite["data"]["attributes"]["status"] == "pending"
    assert re.fullmatch(r"[0-9a-f]{64}", invite["data"]["attributes"]["code"])


def test_the_mail_is_shown_with_the_accept_link(walked):
    [(_, invite)] = answers(output_of(walked, "INVITE_ID="))
    mail = output_of(walked, "outbox show")
    assert "To: bob@example.com" in mail
    assert "Subject: You are invited to join Acme" in mail
    link = f"/invites/{invite['data']['id']}/accept?code={invite['data']['attributes']['code']}"
    assert link in mail


def test_verification_and_sign_up_with_the_code(walked):
    [(status, verification)] = answers(output_of(walked, "invite-verifications"))
    assert status == 201 and verification["data"]["type"] == "invite_verifications"
    assert verification["data"]["attributes"]["recipient_has_account"] is False
    assert [r["attributes"]["name"] for r in verification["included"]] == ["Acme"]
    [(status, bob)] = answers(output_of(walked, '"invite_code"'))
    assert status == 201 and bob["data"]["attributes"]["is_verified"] is True


def test_an_existing_user_accepts(walked):
    (status, _), (accept_status, accepted) = answers(output_of(walked, "/accept"))
    assert status == 201 and accept_status == 200
    attributes = accepted["data"]["attributes"]
    assert attributes["status"] == "accepted" and attributes["accepted_at"]
    assert accepted["data"]["relationships"]["accepted_by_user"]["data"]["type"] == "users"


def test_invites_page_by_page_with_includes(walked):
    (status, first), (next_status, second) = answers(output_of(walked, "page[size]=1"))
    assert status == next_status == 200
    assert first["meta"]["pagination"]["total_count"] == 2
    assert first["links"]["next"] and second["links"]["next"] is None
    assert {r["type"] for r in first["included"]} == {"users"}
    assert first["data"][0]["id"] != second["data"][0]["id"]


def test_a_pull_and_the_next_pull_from_its_cursor(walked):
    (status, pull), (next_status, next_pull) = answers(output_of(walked, "CURSOR="))
    assert status == 200 and "pagination" not in pull["meta"]
    assert len(pull["data"]) == 2
    assert isinstance(pull["meta"]["sync"]["cursor"], str)
    assert isinstance(pull["meta"]["sync"]["has_more"], bool)
    # Which rows the next pull brings is the sync rules' business (docs/sync.md); that it
    # answers from the cursor with a cursor of its own is the walk-through's.
    assert next_status == 200
    assert isinstance(next_pull["meta"]["sync"]["cursor"], str)
    assert isinstance(next_pull["meta"]["sync"]["has_more"], bool)


def test_a_stale_base_is_409_with_the_current_resource_and_a_retry_is_200(walked):
    [(_, organization)] = answers(output_of(walked, "ORG_ID="))
    first, stale, retry = answers(output_of(walked, "-X PATCH"))
    assert first[0] == 200 and first[1]["data"]["attributes"]["name"] == "Acme Inc"
    old_version = organization["data"]["attributes"]["updated_in_db_at"]
    assert first[1]["data"]["attributes"]["updated_in_db_at"] != old_version
    assert stale[0] == 409
    [error] = stale[1]["errors"]
    assert error["code"] == "stale_update"
    assert error["meta"]["current"]["id"] == organization["data"]["id"]
    assert error["meta"]["current"]["attributes"]["name"] == "Acme Inc"
    assert retry[0] == 200 and retry[1]["data"]["attributes"]["name"] == "Acme Inc"


def test_the_worker_beside_gunicorn_keeps_each_mail_in_the_instance_folder(served, walked):
    folder = served["instance"] / "mail"
    deadline = time.monotonic() + 30
    while len(list(folder.glob("*.eml"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]
    assert [m["To"] for m in messages] == ["bob@example.com", "carol@example.com"]
    assert "Acme" in messages[0]["Subject"]


def test_the_checkout_instance_folder_is_left_alone(served, walked):
    assert checkout_instance() == served["checkout_instance"]
