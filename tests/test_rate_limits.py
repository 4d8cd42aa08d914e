"""Rate limits (flask-limiter): per client address for sign-in, registration, verification and
accept; per user for invites created (a batch counts each address); a JSON:API 429 with
Retry-After; Redis storage shared by every process."""

import json
import os
import socket
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from .conftest import TEST_SETTINGS
from .factories import PASSWORD, UserFactory

REDIS_URI = "redis://127.0.0.1:6379"


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def limited_app(make_app):
    def build(**settings):
        return make_app(**{"RATELIMIT_ENABLED": True, "RATELIMIT_SIGN_IN": "3/minute", **settings})

    return build


def a_fresh_address() -> str:
    """Counts are kept per address: a new one per test keeps tests apart in a shared store."""
    return "10." + ".".join(str(uuid.uuid4().int % 250) for _ in range(3))


def sign_in(client, email="nobody@example.com", headers=None):
    body = {
        "data": {"type": "tokens", "attributes": {"email": email, "password": "wrong password"}}
    }
    return client.send("POST", "/api/v2/auth/tokens", body, headers=headers)


def test_over_the_limit_is_a_jsonapi_429_with_retry_after(limited_app):
    client = limited_app().test_client()
    assert [sign_in(client).status_code for _ in range(3)] == [401, 401, 401]
    refused = sign_in(client)
    assert refused.status_code == 429
    assert refused.json["errors"][0]["code"] == "too_many_requests"
    assert 0 < int(refused.headers["Retry-After"]) <= 60


def test_limits_can_be_turned_off(limited_app):
    client = limited_app(RATELIMIT_ENABLED=False).test_client()
    assert all(sign_in(client).status_code == 401 for _ in range(6))


def test_counted_per_address_as_far_as_the_proxy_is_trusted(limited_app):
    trusting = limited_app(PROXY_FIX_X_FOR=1).test_client()
    for _ in range(3):
        sign_in(trusting, headers={"X-Forwarded-For": "203.0.113.1"})
    assert sign_in(trusting, headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    assert sign_in(trusting, headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 401

    untrusting = limited_app().test_client()
    for number in range(3):
        sign_in(untrusting, headers={"X-Forwarded-For": f"198.51.100.{number}"})
    # The header is not trusted: every request came from the same peer.
    assert sign_in(untrusting, headers={"X-Forwarded-For": "198.51.100.9"}).status_code == 429


def test_invites_created_per_user_and_a_batch_counts_each_address(limited_app, session, api, login):
    owner = UserFactory()
    organization = api.create_organization(owner)
    app = limited_app(RATELIMIT_INVITE_CREATION="3/hour")
    limited = app.test_client()
    headers = login(owner)
    base = f"/api/v2/organizations/{organization['id']}"
    batch = {
        "data": {
            "type": "invite_batches",
            "attributes": {"recipient_emails": ["a@example.com", "b@example.com", "c@example.com"]},
        }
    }
    assert limited.send("POST", f"{base}/invite-batches", batch, headers=headers).status_code == 201
    one = {
        "data": {"type": "organization_invites", "attributes": {"recipient_email": "d@example.com"}}
    }
    refused = limited.send("POST", f"{base}/invites", one, headers=headers)
    assert refused.status_code == 429
    other_admin = UserFactory()
    api.add_member(organization["id"], owner, other_admin, "admin")
    assert (
        limited.send("POST", f"{base}/invites", one, headers=login(other_admin)).status_code == 201
    )


PROBE = textwrap.dedent(
    """
    import json, sys
    from jsonapi_server import create_app
    app = create_app(json.loads(sys.argv[1]))
    body = {"data": {"type": "tokens", "attributes": {"email": "x@example.com", "password": "no"}}}
    headers = {"Content-Type": "application/vnd.api+json", **json.loads(sys.argv[2])}
    response = app.test_client().post("/api/v2/auth/tokens", json=body, headers=headers)
    print(response.status_code)
    """
)


@pytest.mark.skipif(not redis_answers(), reason="no Redis answers on 127.0.0.1:6379")
def test_redis_storage_is_one_count_for_every_process(limited_app, database_url):
    address = {"X-Forwarded-For": a_fresh_address()}
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "JWT_SECRET_KEY": TEST_SETTINGS["JWT_SECRET_KEY"],
        "RATELIMIT_STORAGE_URI": REDIS_URI,
        "RATELIMIT_SIGN_IN": "3/minute",
        "PROXY_FIX_X_FOR": 1,
    }
    client = limited_app(
        **{k: v for k, v in settings.items() if k != "SQLALCHEMY_DATABASE_URI"}
    ).test_client()
    assert [sign_in(client, headers=address).status_code for _ in range(2)] == [401, 401]
    other_process = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(settings), json.dumps(address)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=60,
    )
    assert other_process.stdout.strip().splitlines()[-1] == "401"
    assert (
        sign_in(client, headers=address).status_code == 429
    )  # the third hit was the other process's


def test_correct_password_counts_too(limited_app, session):
    user = UserFactory()
    client = limited_app().test_client()
    body = {"data": {"type": "tokens", "attributes": {"email": user.email, "password": PASSWORD}}}
    statuses = [client.send("POST", "/api/v2/auth/tokens", body).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
