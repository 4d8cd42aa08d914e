"""Signing in, refreshing and signing out, including revocation seen by another process."""

import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask_jwt_extended import create_access_token

from .factories import PASSWORD, UserFactory


def credentials(email, password=PASSWORD):
    return {"data": {"type": "tokens", "attributes": {"email": email, "password": password}}}


def sign_in(client, email, password=PASSWORD):
    return client.send("POST", "/api/v2/auth/tokens", credentials(email, password))


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_sign_in_returns_a_tokens_resource(client, user):
    response = sign_in(client, user.email.upper())
    assert response.status_code == 201
    assert "Location" not in response.headers
    data = response.json["data"]
    assert data["type"] == "tokens"
    assert data["attributes"]["token_type"] == "Bearer"
    assert data["attributes"]["expires_in"] == 900
    assert data["relationships"]["user"]["data"] == {"type": "users", "id": str(user.id)}
    assert "password" not in data["attributes"] and "email" not in data["attributes"]
    profile = client.get("/api/v2/profile", headers=bearer(data["attributes"]["access_token"]))
    assert profile.status_code == 200


def test_sign_in_can_include_the_user(client, user):
    response = client.send("POST", "/api/v2/auth/tokens?include=user", credentials(user.email))
    assert [(r["type"], r["id"]) for r in response.json["included"]] == [("users", str(user.id))]


def test_wrong_password_and_unknown_email_get_the_same_answer(client, user):
    wrong_password = sign_in(client, user.email, "not the password")
    unknown_email = sign_in(client, "nobody@example.com")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json["errors"] == unknown_email.json["errors"]
    assert PASSWORD not in wrong_password.get_data(as_text=True)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"data": {"type": "tokens", "attributes": {"email": "a@b.co"}}}, 422),
        ({"data": {"type": "tokens", "attributes": {"password": "x"}}}, 422),
        ({"data": {"type": "tokens", "attributes": {"email": 5, "password": "x"}}}, 422),
        ({"data": {"type": "users", "attributes": {"email": "a@b.co", "password": "x"}}}, 409),
        ({"data": {"type": "tokens", "attributes": ["email"]}}, 400),
        ({"data": []}, 400),
        ({"meta": {}}, 400),
        ("not json", 400),
    ],
)
def test_malformed_sign_in_bodies(client, body, status):
    response = client.send("POST", "/api/v2/auth/tokens", body)
    assert response.status_code == status


def test_refresh_gives_a_new_access_token_for_the_same_session(client, user):
    signed_in = sign_in(client, user.email).json["data"]["attributes"]
    response = client.post(
        "/api/v2/auth/tokens/refresh", headers=bearer(signed_in["refresh_token"])
    )
    assert response.status_code == 201
    refreshed = response.json["data"]["attributes"]
    assert refreshed["refresh_token"] == signed_in["refresh_token"]
    assert (
        client.get("/api/v2/profile", headers=bearer(refreshed["access_token"])).status_code == 200
    )


def test_refresh_needs_a_refresh_token(client, user):
    access = sign_in(client, user.email).json["data"]["attributes"]["access_token"]
    response = client.post("/api/v2/auth/tokens/refresh", headers=bearer(access))
    assert response.status_code == 401
    assert response.json["errors"][0]["code"] == "invalid_token"


def test_an_access_token_is_not_a_refresh_token_either_way(client, user):
    refresh = sign_in(client, user.email).json["data"]["attributes"]["refresh_token"]
    assert client.get("/api/v2/profile", headers=bearer(refresh)).status_code == 401


def test_sign_out_revokes_access_and_refresh_tokens(client, user):
    attributes = sign_in(client, user.email).json["data"]["attributes"]
    other_session = sign_in(client, user.email).json["data"]["attributes"]["access_token"]
    response = client.delete(
        "/api/v2/auth/tokens/current", headers=bearer(attributes["access_token"])
    )
    assert response.status_code == 204
    revoked = client.get("/api/v2/profile", headers=bearer(attributes["access_token"]))
    assert revoked.status_code == 401
    assert revoked.json["errors"][0]["code"] == "token_revoked"
    refresh = client.post(
        "/api/v2/auth/tokens/refresh", headers=bearer(attributes["refresh_token"])
    )
    assert refresh.status_code == 401
    # Other sessions of the same account go on working.
    assert client.get("/api/v2/profile", headers=bearer(other_session)).status_code == 200


def test_expired_token_is_401(app, client, user):
    with app.app_context():
        token = create_access_token(
            identity=str(user.id),
            additional_claims={"sid": "00000000-0000-4000-8000-000000000000"},
            expires_delta=timedelta(seconds=-1),
        )
    response = client.get("/api/v2/profile", headers=bearer(token))
    assert response.status_code == 401
    assert response.json["errors"][0]["code"] == "token_expired"


def test_a_remembered_token_still_expires(app, client, user, session):
    """Verified tokens are remembered (api/verified_tokens.py); their expiry is checked on use."""
    with app.app_context():
        token = create_access_token(
            identity=str(user.id),
            additional_claims={"sid": "00000000-0000-4000-8000-000000000001"},
            expires_delta=timedelta(seconds=1),
        )
    assert client.get("/api/v2/profile", headers=bearer(token)).status_code == 200
    time.sleep(1.2)
    response = client.get("/api/v2/profile", headers=bearer(token))
    assert response.status_code == 401
    assert response.json["errors"][0]["code"] == "token_expired"


@pytest.mark.parametrize(
    "settings",
    [
        {"JWT_SECRET_KEY": "another-secret-key-that-is-long-enough-for-hs256"},
        {"JWT_DECODE_AUDIENCE": ["other-clients"]},  # settings given as lists, too
        {"JWT_DECODE_ISSUER": "another-issuer"},
        {"JWT_ALGORITHM": "HS512"},
    ],
)
def test_a_token_remembered_by_one_app_is_verified_afresh_by_another(
    client, user, make_app, settings
):
    token = sign_in(client, user.email).json["data"]["attributes"]["access_token"]
    assert client.get("/api/v2/profile", headers=bearer(token)).status_code == 200
    other = make_app(**settings)
    response = other.test_client().get("/api/v2/profile", headers=bearer(token))
    assert response.status_code == 401
    assert response.json["errors"][0]["code"] == "invalid_token"


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "Bearer a.b.c d"],
)
def test_garbage_authorization_is_401(client, header):
    response = client.get("/api/v2/profile", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["errors"][0]["source"] == {"header": "Authorization"}


def test_token_signed_with_another_key_is_401(client, user):
    import jwt as pyjwt

    forged = pyjwt.encode(
        {"sub": str(user.id), "sid": "00000000-0000-4000-8000-000000000000", "type": "access"},
        "some other key that is long enough for hs256",
        algorithm="HS256",
    )
    assert client.get("/api/v2/profile", headers=bearer(forged)).status_code == 401


def test_token_of_a_deleted_account_is_401(client, user, login, session):
    headers = login(user)
    session.delete(user)
    session.commit()
    assert client.get("/api/v2/profile", headers=headers).status_code == 401


def test_authentication_costs_one_statement(client, user, login, count_queries):
    headers = login(user)
    with count_queries() as statements:
        assert client.get("/api/v2/profile", headers=headers).status_code == 200
    assert len(statements) == 1, statements


PROBE = textwrap.dedent(
    """
    import json, sys
    from jsonapi_server import create_app
    app = create_app(json.loads(sys.argv[1]))
    response = app.test_client().get(
        "/api/v2/profile", headers={"Authorization": "Bearer " + sys.argv[2]}
    )
    print(response.status_code)
    """
)


def status_in_another_process(settings: dict, token: str) -> int:
    """Ask a separate Python process, with its own application, what it makes of `token`."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(settings), token],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=60,
    )
    return int(result.stdout.strip().splitlines()[-1])


def test_revocation_holds_in_another_process(app, client, session):
    user = UserFactory()
    settings = {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "JWT_SECRET_KEY": app.config["JWT_SECRET_KEY"],
    }
    token = sign_in(client, user.email).json["data"]["attributes"]["access_token"]
    assert status_in_another_process(settings, token) == 200
    assert client.delete("/api/v2/auth/tokens/current", headers=bearer(token)).status_code == 204
    assert status_in_another_process(settings, token) == 401


def test_the_bearer_token_is_found_among_other_credentials(client, user):
    token = sign_in(client, user.email).json["data"]["attributes"]["access_token"]
    headers = {"Authorization": f"Basic dXNlcjpwYXNz, Bearer {token}"}
    assert client.get("/api/v2/profile", headers=headers).status_code == 200
    twice = {"Authorization": f"Bearer {token}, Bearer {token}"}
    assert client.get("/api/v2/profile", headers=twice).status_code == 401


def test_a_token_without_its_type_is_an_access_token(app, client, user):
    """As flask-jwt-extended reads it: usable as an access token, refused as a refresh one."""
    import jwt as pyjwt

    token = sign_in(client, user.email).json["data"]["attributes"]["access_token"]
    claims = pyjwt.decode(token, app.config["JWT_SECRET_KEY"], algorithms=["HS256"])
    del claims["type"]
    untyped = pyjwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    assert client.get("/api/v2/profile", headers=bearer(untyped)).status_code == 200
    response = client.post("/api/v2/auth/tokens/refresh", headers=bearer(untyped))
    assert response.status_code == 401
    assert response.json["errors"][0]["code"] == "invalid_token"


def test_the_caller_is_a_record_and_a_change_to_their_account_takes_its_row(
    app, client, user, session, login
):
    """Every request loads the caller as a record (no ORM instance); a service that changes
    the caller's own account reads its row, locked (accounts.own_account)."""
    from jsonapi_server.extensions import db
    from jsonapi_server.models import User
    from jsonapi_server.services.accounts import own_account
    from jsonapi_server.services.tokens import session_holder

    session_id = "00000000-0000-4000-8000-000000000000"
    with app.test_request_context(method="POST"):
        caller, revoked = session_holder(user.id, session_id)
        assert not revoked and not isinstance(caller, User)
        assert not any(isinstance(instance, User) for instance in db.session.identity_map.values())
        assert (caller.id, caller.email, caller.full_name) == (user.id, user.email, user.full_name)
        account = own_account(caller)
        assert isinstance(account, User) and account in db.session
    response = client.patch(
        "/api/v2/profile",
        json={"data": {"type": "users", "id": str(user.id), "attributes": {"first_name": "Ada"}}},
        headers={**login(user), "Content-Type": "application/vnd.api+json"},
    )
    assert response.status_code == 200, response.json
    assert response.json["data"]["attributes"]["first_name"] == "Ada"
