"""Request logs: one JSON line per request, with the request id; no secret ever logged."""

import json
import logging

import pytest

from .factories import UserFactory


@pytest.fixture
def captured(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def request_lines(caplog) -> list[dict]:
    return [r.fields for r in caplog.records if r.name == "jsonapi_server.requests"]


def test_one_line_per_request_with_its_fields(client, login, user, captured):
    client.get("/api/v2/profile", headers={**login(user), "X-Request-ID": "abc-123"})
    [line] = request_lines(captured)
    assert line["request_id"] == "abc-123"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v2/profile", 200)
    assert line["user_id"] == str(user.id)
    assert line["duration_ms"] >= 0
    assert line["time"].endswith("Z")
    json.dumps(line)  # a JSON object


def test_no_secret_reaches_the_log_after_a_full_flow(
    api, client, login, session, captured, inbox, deliver
):
    owner = UserFactory()
    organization = api.create_organization(owner)
    registration = {
        "data": {
            "type": "users",
            "attributes": {"email": "flow@example.com", "password": "a secret password"},
        }
    }
    registered = client.send("POST", "/api/v2/users", registration).json
    secrets = {
        "a secret password",
        registered["meta"]["access_token"],
        registered["meta"]["refresh_token"],
    }
    signed_in = client.send(
        "POST",
        "/api/v2/auth/tokens",
        {
            "data": {
                "type": "tokens",
                "attributes": {"email": "flow@example.com", "password": "a secret password"},
            }
        },
    ).json["data"]["attributes"]
    secrets |= {signed_in["access_token"], signed_in["refresh_token"]}
    client.post(
        "/api/v2/auth/tokens/refresh",
        headers={"Authorization": f"Bearer {signed_in['refresh_token']}"},
    )
    invite_body = {
        "data": {
            "type": "organization_invites",
            "attributes": {"recipient_email": "flow@example.com"},
        }
    }
    invite = client.send(
        "POST",
        f"/api/v2/organizations/{organization['id']}/invites",
        invite_body,
        headers=login(owner),
    ).json["data"]
    code = invite["attributes"]["code"]
    secrets.add(code)
    deliver()
    client.send(
        "POST",
        "/api/v2/invite-verifications",
        {"data": {"type": "invite_verifications", "attributes": {"code": code}}},
    )
    client.send(
        "PUT",
        f"/api/v2/organizations/{organization['id']}/invites/{invite['id']}/accept",
        {"data": {"type": "organization_invites", "attributes": {"code": "f" * 64}}},
        headers={"Authorization": f"Bearer {signed_in['access_token']}"},
    )
    client.send(
        "PUT",
        f"/api/v2/organizations/{organization['id']}/invites/{invite['id']}/accept",
        {"data": {"type": "organization_invites", "attributes": {"code": code}}},
        headers={"Authorization": f"Bearer {signed_in['access_token']}"},
    )
    client.send(
        "POST",
        "/api/v2/auth/tokens",
        {
            "data": {
                "type": "tokens",
                "attributes": {"email": "flow@example.com", "password": "wrong " + code},
            }
        },
    )
    client.delete(
        "/api/v2/auth/tokens/current",
        headers={"Authorization": f"Bearer {signed_in['access_token']}"},
    )
    # Everything logged in this process, but for the test SMTP server's own debug lines
    # (aiosmtpd logs what it receives: the email, which does carry the code).
    ours = [r for r in captured.records if not r.name.startswith("mail.log")]
    everything = "\n".join(
        [r.getMessage() for r in ours] + [json.dumps(line) for line in request_lines(captured)]
    )
    assert len(request_lines(captured)) >= 10
    for secret in secrets:
        assert secret not in everything


def test_a_write_logs_its_caller(client, login, user, captured, api):
    organization = api.create_organization(user)
    captured.clear()
    response = client.send(
        "PATCH",
        f"/api/v2/organizations/{organization['id']}",
        {"data": {"type": "organizations", "id": organization["id"], "attributes": {"name": "B"}}},
        headers=login(user),
    )
    assert response.status_code == 200, response.json
    [line] = request_lines(captured)
    assert (line["method"], line["status"], line["user_id"]) == ("PATCH", 200, str(user.id))


def test_the_formatter_writes_each_record_as_one_json_line():
    from jsonapi_server.api.request_log import JsonLineFormatter

    formatter = JsonLineFormatter()
    fields = {"path": "/api/v2/organizations/Zürich", "status": 200, "duration_ms": 1.25}
    request_record = logging.makeLogRecord({"fields": fields})
    line = formatter.format(request_record)
    assert "\n" not in line and json.loads(line) == fields
    assert "Zürich" in line  # UTF-8, not escaped
    try:
        raise ValueError("broken")
    except ValueError:
        import sys

        failure = logging.makeLogRecord(
            {"name": "x", "levelno": 40, "levelname": "ERROR", "msg": "failed %s", "args": (1,)}
        )
        failure.exc_info = sys.exc_info()
    written = json.loads(formatter.format(failure))
    assert (written["level"], written["logger"], written["message"]) == ("error", "x", "failed 1")
    assert "ValueError: broken" in written["exception"] and written["time"].endswith("Z")
