"""Password changes (the current password; every other session signed out) and resets (one
answer whatever the address, rate-limited, a single-use expiring token stored as its hash,
every session signed out)."""

import hashlib
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from jsonapi_server.models import EmailChange, OutboxMessage, PasswordReset
from jsonapi_server.times import utc_now

from .factories import PASSWORD, UserFactory

TOKEN = re.compile(r"token=([0-9a-f]{64})")
NEW_PASSWORD = "a brand new passphrase"
SMTP_SERVER_LOG = "mail.log"  # the test's SMTP server (aiosmtpd) logs what it receives


def sign_in(client, email, password=PASSWORD):
    body = {"data": {"type": "tokens", "attributes": {"email": email, "password": password}}}
    return client.send("POST", "/api/v2/auth/tokens", body)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def password_change(current=PASSWORD, new=NEW_PASSWORD) -> dict:
    attributes = {"current_password": current, "password": new}
    return {"data": {"type": "password_changes", "attributes": attributes}}


def reset_request(email: str) -> dict:
    return {"data": {"type": "password_resets", "attributes": {"email": email}}}


def reset_confirmation(token: str, password=NEW_PASSWORD) -> dict:
    attributes = {"token": token, "password": password}
    return {"data": {"type": "password_resets", "attributes": attributes}}


def request_reset(client, email, **options):
    return client.send("POST", "/api/v2/password-resets", reset_request(email), **options)


def confirm_reset(client, token, password=NEW_PASSWORD):
    return client.send(
        "PUT", "/api/v2/password-resets/confirm", reset_confirmation(token, password)
    )


def mailed_token(inbox, deliver, to: str) -> str:
    deliver()
    [message] = [m for m in inbox if m["To"] == to]
    token = TOKEN.search(message.get_body(("plain",)).get_content()).group(1)
    assert token in message.get_body(("html",)).get_content()
    return token


class TestChange:
    def test_other_sessions_are_signed_out_and_this_one_stays(self, client, user):
        this = sign_in(client, user.email).json["data"]["attributes"]
        other = sign_in(client, user.email).json["data"]["attributes"]
        changed = client.send(
            "POST",
            "/api/v2/password-changes",
            password_change(),
            headers=bearer(this["access_token"]),
        )
        assert changed.status_code == 201, changed.json
        assert changed.json["data"]["type"] == "password_changes"
        assert changed.headers["Cache-Control"] == "no-store"
        assert (
            client.get("/api/v2/profile", headers=bearer(this["access_token"])).status_code == 200
        )
        refreshed = client.post(
            "/api/v2/auth/tokens/refresh", headers=bearer(this["refresh_token"])
        )
        assert refreshed.status_code == 201
        for token in (other["access_token"], other["refresh_token"]):
            path = (
                "/api/v2/profile"
                if token == other["access_token"]
                else "/api/v2/auth/tokens/refresh"
            )
            method = client.get if token == other["access_token"] else client.post
            refused = method(path, headers=bearer(token))
            assert refused.status_code == 401
            assert refused.json["errors"][0]["code"] == "token_revoked"
        assert sign_in(client, user.email).status_code == 401
        assert sign_in(client, user.email, NEW_PASSWORD).status_code == 201

    def test_a_wrong_current_password_is_403_and_changes_nothing(self, client, login, user):
        headers = login(user)
        refused = client.send(
            "POST",
            "/api/v2/password-changes",
            password_change(current="wrong one"),
            headers=headers,
        )
        assert refused.status_code == 403
        [error] = refused.json["errors"]
        assert error["code"] == "wrong_password"
        assert error["source"]["pointer"] == "/data/attributes/current_password"
        assert sign_in(client, user.email).status_code == 201

    def test_the_new_password_keeps_the_rules(self, client, login, user):
        refused = client.send(
            "POST", "/api/v2/password-changes", password_change(new="short"), headers=login(user)
        )
        assert refused.status_code == 422
        assert refused.json["errors"][0]["source"]["pointer"] == "/data/attributes/password"

    def test_needs_a_token(self, client):
        assert client.send("POST", "/api/v2/password-changes", password_change()).status_code == 401

    def test_pending_email_changes_end(self, client, login, user, session):
        body = {
            "data": {
                "type": "email_changes",
                "attributes": {"email": "elsewhere@example.com", "current_password": PASSWORD},
            }
        }
        assert (
            client.send("POST", "/api/v2/email-changes", body, headers=login(user)).status_code
            == 201
        )
        client.send("POST", "/api/v2/password-changes", password_change(), headers=login(user))
        assert session.scalars(select(EmailChange)).all() == []


class TestResetRequest:
    def test_known_and_unknown_addresses_get_the_same_answer(self, client, user, inbox, deliver):
        known = request_reset(client, user.email)
        unknown = request_reset(client, "nobody-here@example.com")
        assert known.status_code == unknown.status_code == 204
        assert known.get_data() == unknown.get_data() == b""
        ignored = {"Date", "X-Request-ID"}
        assert {k: v for k, v in known.headers.items() if k not in ignored} == {
            k: v for k, v in unknown.headers.items() if k not in ignored
        }
        assert known.headers["Cache-Control"] == "no-store"
        assert known.headers["Pragma"] == "no-cache"
        assert deliver() == 1
        assert [m["To"] for m in inbox] == [user.email]

    def test_both_do_the_same_work_but_the_email(self, client, user, count_queries):
        request_reset(client, "warm-up@example.com")
        email = user.email  # read before counting (the test's own session would load it)
        with count_queries() as known:
            request_reset(client, email)
        with count_queries() as unknown:
            request_reset(client, "nobody-here@example.com")
        outbox = [s for s in known if "outbox_messages" in s]
        assert len(outbox) == 1
        assert [s for s in known if s not in outbox] == unknown

    def test_the_token_is_stored_as_its_hash_only(self, client, user, inbox, deliver, session):
        request_reset(client, user.email)
        token = mailed_token(inbox, deliver, user.email)
        [stored] = session.scalars(select(PasswordReset)).all()
        assert stored.user_id == user.id
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        row = session.execute(text("SELECT * FROM password_resets")).one()
        assert token not in " ".join(str(value) for value in row)
        # Nor is the sent email kept with it.
        [mail] = session.execute(text("SELECT text_body, html_body, sent_at FROM outbox_messages"))
        assert mail.sent_at is not None and token not in mail.text_body + mail.html_body

    def test_a_malformed_address_is_422(self, client):
        refused = request_reset(client, "not an address")
        assert refused.status_code == 422
        assert refused.json["errors"][0]["source"]["pointer"] == "/data/attributes/email"


class TestResetConfirm:
    def test_the_token_sets_the_password_and_signs_every_session_out(
        self, client, user, inbox, deliver
    ):
        session_before = sign_in(client, user.email).json["data"]["attributes"]
        request_reset(client, user.email)
        token = mailed_token(inbox, deliver, user.email)
        confirmed = confirm_reset(client, token)
        assert confirmed.status_code == 200, confirmed.json
        assert confirmed.json["data"]["type"] == "password_resets"
        assert confirmed.json["data"]["attributes"]["used_at"] is not None
        assert confirmed.headers["Cache-Control"] == "no-store"
        for token_before in (session_before["access_token"],):
            assert client.get("/api/v2/profile", headers=bearer(token_before)).status_code == 401
        refresh = client.post(
            "/api/v2/auth/tokens/refresh", headers=bearer(session_before["refresh_token"])
        )
        assert refresh.status_code == 401
        assert sign_in(client, user.email).status_code == 401
        assert sign_in(client, user.email, NEW_PASSWORD).status_code == 201

    def test_a_token_works_once(self, client, user, inbox, deliver):
        request_reset(client, user.email)
        token = mailed_token(inbox, deliver, user.email)
        assert confirm_reset(client, token).status_code == 200
        again = confirm_reset(client, token, "yet another passphrase")
        assert again.status_code == 409
        assert again.json["errors"][0]["code"] == "password_reset_used"
        assert sign_in(client, user.email, NEW_PASSWORD).status_code == 201

    def test_an_expired_token_is_410(self, client, user, inbox, deliver, session):
        request_reset(client, user.email)
        token = mailed_token(inbox, deliver, user.email)
        session.execute(update(PasswordReset).values(expires_at=utc_now() - timedelta(seconds=1)))
        session.commit()
        expired = confirm_reset(client, token)
        assert expired.status_code == 410
        assert expired.json["errors"][0]["code"] == "password_reset_expired"
        assert sign_in(client, user.email).status_code == 201

    def test_the_token_expires_after_the_setting(self, app, client, user, session):
        started = utc_now()
        request_reset(client, user.email)
        [stored] = session.scalars(select(PasswordReset)).all()
        ttl = timedelta(seconds=app.config["PASSWORD_RESET_TTL_SECONDS"])
        assert started + ttl - timedelta(seconds=5) <= stored.expires_at <= utc_now() + ttl

    def test_an_unknown_token_is_422(self, client, user):
        request_reset(client, "nobody-here@example.com")  # its row opens nothing
        refused = confirm_reset(client, "a" * 64)
        assert refused.status_code == 422
        assert refused.json["errors"][0]["code"] == "invalid_token"
        assert refused.json["errors"][0]["source"]["pointer"] == "/data/attributes/token"

    def test_the_new_password_keeps_the_rules(self, client, user, inbox, deliver):
        request_reset(client, user.email)
        token = mailed_token(inbox, deliver, user.email)
        refused = confirm_reset(client, token, "short")
        assert refused.status_code == 422
        assert refused.json["errors"][0]["source"]["pointer"] == "/data/attributes/password"
        assert confirm_reset(client, token).status_code == 200

    def test_a_changed_email_ends_the_reset_mailed_to_the_old_one(
        self, client, login, user, inbox, deliver
    ):
        request_reset(client, user.email)
        token = mailed_token(inbox, deliver, user.email)
        body = {
            "data": {
                "type": "email_changes",
                "attributes": {"email": "moved@example.com", "current_password": PASSWORD},
            }
        }
        change = client.send("POST", "/api/v2/email-changes", body, headers=login(user)).json
        deliver()
        [mail] = [m for m in inbox if m["To"] == "moved@example.com"]
        code = re.search(r"code=([0-9a-f]{64})", mail.get_body(("plain",)).get_content()).group(1)
        confirm = {
            "data": {
                "type": "email_changes",
                "id": change["data"]["id"],
                "attributes": {"code": code},
            }
        }
        path = f"/api/v2/email-changes/{change['data']['id']}/confirm"
        assert client.send("PUT", path, confirm, headers=login(user)).status_code == 200
        assert confirm_reset(client, token).status_code == 409

    def test_no_token_reaches_the_logs(self, client, user, inbox, deliver, caplog):
        caplog.set_level(logging.DEBUG)
        request_reset(client, user.email)
        token = mailed_token(inbox, deliver, user.email)
        confirm_reset(client, token)
        confirm_reset(client, token)
        ours = [r for r in caplog.records if r.name != SMTP_SERVER_LOG]
        assert any(r.name == "jsonapi_server.requests" for r in ours)
        assert not [r for r in ours if token in r.getMessage() or token in str(r.__dict__)]


class TestRateLimits:
    @pytest.fixture
    def limited(self, make_app):
        return make_app(RATELIMIT_ENABLED=True, RATELIMIT_PASSWORD_RESET="2/minute").test_client()

    def test_per_client_address_for_known_and_unknown_addresses(self, limited, session):
        user = UserFactory()
        peer = {"environ_base": {"REMOTE_ADDR": "192.0.2.10"}}
        statuses = [
            request_reset(limited, email, **peer).status_code
            for email in (user.email, "nobody-a@example.com", "nobody-b@example.com")
        ]
        assert statuses == [204, 204, 429]
        refused = request_reset(limited, user.email, **peer)
        assert refused.status_code == 429
        assert refused.json["errors"][0]["code"] == "too_many_requests"
        assert refused.headers["Cache-Control"] == "no-store"
        other_peer = {"environ_base": {"REMOTE_ADDR": "192.0.2.11"}}
        assert request_reset(limited, "nobody-c@example.com", **other_peer).status_code == 204

    def test_per_address_asked_for_whatever_the_client(self, limited, session):
        statuses = [
            request_reset(
                limited, "Victim@Example.com", environ_base={"REMOTE_ADDR": f"192.0.2.{n}"}
            ).status_code
            for n in range(20, 23)
        ]
        assert statuses == [204, 204, 429]

    def test_nothing_is_mailed_past_the_limit(self, limited, session):
        user = UserFactory()
        for _ in range(4):
            request_reset(limited, user.email, environ_base={"REMOTE_ADDR": "192.0.2.30"})
        assert len(session.scalars(select(OutboxMessage)).all()) == 2
