"""Email changes: the current password asks, a code mailed to the new address confirms, once
and before it expires; the account moves (verified) only then, and nothing is reserved before."""

import hashlib
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text, update

from jsonapi_server.models import EmailChange, OrganizationInvite, OutboxMessage
from jsonapi_server.times import parse_timestamp, utc_now

from .factories import PASSWORD, UserFactory
from .served import served

SMTP_SERVER_LOG = "mail.log"  # the test's SMTP server (aiosmtpd) logs what it receives
CODE = re.compile(r"code=([0-9a-f]{64})")


def change_request(email: str, password: str = PASSWORD) -> dict:
    attributes = {"email": email, "current_password": password}
    return {"data": {"type": "email_changes", "attributes": attributes}}


def confirmation(change_id: str, code: str) -> dict:
    return {"data": {"type": "email_changes", "id": change_id, "attributes": {"code": code}}}


def request_change(client, headers, email="new.address@example.com", **options):
    return client.send(
        "POST", "/api/v2/email-changes", change_request(email, **options), headers=headers
    )


def mailed_code(inbox, deliver, to: str) -> str:
    deliver()
    [message] = [m for m in inbox if m["To"] == to]
    text_body = message.get_body(("plain",)).get_content()
    html_body = message.get_body(("html",)).get_content()
    code = CODE.search(text_body).group(1)
    assert code in html_body
    return code


def confirm(client, headers, change_id, code):
    return client.send(
        "PUT",
        f"/api/v2/email-changes/{change_id}/confirm",
        confirmation(change_id, code),
        headers=headers,
    )


@pytest.fixture
def unverified(session):
    return UserFactory(is_verified=False)


def test_the_code_goes_to_the_new_address_and_confirms_the_change(
    client, login, unverified, inbox, deliver, session
):
    headers = login(unverified)
    old_email = unverified.email
    requested = request_change(client, headers, "New.Address@Example.com")
    assert requested.status_code == 201
    data = requested.json["data"]
    assert data["type"] == "email_changes"
    assert data["attributes"]["email"] == "new.address@example.com"
    assert data["attributes"]["confirmed_at"] is None
    assert "current_password" not in data["attributes"]
    assert requested.headers["Cache-Control"] == "no-store"
    # Nothing changes before the code comes back.
    assert client.get("/api/v2/profile", headers=headers).json["data"]["attributes"]["email"] == (
        old_email
    )
    code = mailed_code(inbox, deliver, "new.address@example.com")
    assert all(m["To"] != old_email for m in inbox)

    confirmed = confirm(client, headers, data["id"], code)
    assert confirmed.status_code == 200, confirmed.json
    assert confirmed.json["data"]["attributes"]["confirmed_at"] is not None
    assert confirmed.headers["Cache-Control"] == "no-store"
    profile = client.get("/api/v2/profile", headers=headers).json["data"]["attributes"]
    assert profile["email"] == "new.address@example.com"
    assert profile["is_verified"] is True


def test_the_code_is_stored_as_its_hash_only(client, login, user, inbox, deliver, session):
    change_id = request_change(client, login(user)).json["data"]["id"]
    code = mailed_code(inbox, deliver, "new.address@example.com")
    stored = session.get(EmailChange, change_id)
    assert stored.code_hash == hashlib.sha256(code.encode()).hexdigest()
    row = session.execute(text("SELECT * FROM email_changes")).one()
    assert code not in " ".join(str(value) for value in row)
    [mail] = session.execute(text("SELECT text_body, html_body, sent_at FROM outbox_messages"))
    assert mail.sent_at is not None and code not in mail.text_body + mail.html_body


def test_a_wrong_current_password_is_403_and_mails_nothing(client, login, user, session):
    refused = request_change(client, login(user), password="not the password")
    assert refused.status_code == 403
    [error] = refused.json["errors"]
    assert error["code"] == "wrong_password"
    assert error["source"]["pointer"] == "/data/attributes/current_password"
    assert session.scalars(select(OutboxMessage)).all() == []
    assert session.scalars(select(EmailChange)).all() == []


def test_the_current_password_is_required(client, login, user):
    body = {"data": {"type": "email_changes", "attributes": {"email": "n@example.com"}}}
    refused = client.send("POST", "/api/v2/email-changes", body, headers=login(user))
    assert refused.status_code == 422
    assert refused.json["errors"][0]["source"]["pointer"] == "/data/attributes/current_password"


def test_an_address_taken_now_or_the_same_one_is_refused(client, login, user):
    other = UserFactory()
    taken = request_change(client, login(user), other.email)
    assert taken.status_code == 409
    assert taken.json["errors"][0]["code"] == "email_taken"
    same = request_change(client, login(user), user.email.upper())
    assert same.status_code == 422
    assert same.json["errors"][0]["code"] == "email_unchanged"


def test_a_wrong_code_is_403_and_changes_nothing(client, login, user, session):
    change_id = request_change(client, login(user)).json["data"]["id"]
    refused = confirm(client, login(user), change_id, "0" * 64)
    assert refused.status_code == 403
    assert refused.json["errors"][0]["code"] == "invalid_code"
    assert session.get(EmailChange, change_id).confirmed_at is None
    malformed = confirm(client, login(user), change_id, "not-a-code")
    assert malformed.status_code == 422
    assert malformed.json["errors"][0]["source"]["pointer"] == "/data/attributes/code"


def test_a_code_works_once(client, login, user, inbox, deliver):
    change_id = request_change(client, login(user)).json["data"]["id"]
    code = mailed_code(inbox, deliver, "new.address@example.com")
    assert confirm(client, login(user), change_id, code).status_code == 200
    again = confirm(client, login(user), change_id, code)
    assert again.status_code == 409
    assert again.json["errors"][0]["code"] == "email_change_confirmed"


def test_an_expired_code_is_410(client, login, user, inbox, deliver, session):
    change_id = request_change(client, login(user)).json["data"]["id"]
    code = mailed_code(inbox, deliver, "new.address@example.com")
    session.execute(update(EmailChange).values(expires_at=utc_now() - timedelta(seconds=1)))
    session.commit()
    expired = confirm(client, login(user), change_id, code)
    assert expired.status_code == 410
    assert expired.json["errors"][0]["code"] == "email_change_expired"


def test_the_code_expires_after_the_setting(client, login, user, app):
    started = utc_now()
    expires_at = request_change(client, login(user)).json["data"]["attributes"]["expires_at"]
    ttl = timedelta(seconds=app.config["EMAIL_CHANGE_TTL_SECONDS"])
    assert started + ttl - timedelta(seconds=5) <= parse_timestamp(expires_at) <= utc_now() + ttl


def test_a_new_request_replaces_the_pending_one(client, login, user, inbox, deliver):
    first = request_change(client, login(user), "first@example.com").json["data"]["id"]
    first_code = mailed_code(inbox, deliver, "first@example.com")
    request_change(client, login(user), "second@example.com")
    assert confirm(client, login(user), first, first_code).status_code == 404


def test_someone_elses_change_is_404(client, login, user, inbox, deliver):
    change_id = request_change(client, login(user)).json["data"]["id"]
    code = mailed_code(inbox, deliver, "new.address@example.com")
    stranger = UserFactory()
    assert confirm(client, login(stranger), change_id, code).status_code == 404


def test_a_pending_change_reserves_nothing(client, login, user, inbox, deliver):
    change_id = request_change(client, login(user), "wanted@example.com").json["data"]["id"]
    code = mailed_code(inbox, deliver, "wanted@example.com")
    owner = client.send(
        "POST",
        "/api/v2/users",
        {
            "data": {
                "type": "users",
                "attributes": {"email": "wanted@example.com", "password": "long enough"},
            }
        },
    )
    assert owner.status_code == 201  # the address's real owner signs up
    late = confirm(client, login(user), change_id, code)
    assert late.status_code == 409
    assert late.json["errors"][0]["code"] == "email_taken"


def test_an_invite_for_another_address_stays_out_of_reach(
    client, login, user, api, session, inbox, deliver
):
    """The probe's path: refused with recipient_mismatch, switch to the recipient's address,
    accept. Without the recipient's mailbox the switch never happens."""
    owner = UserFactory()
    organization = api.create_organization(owner)
    body = {
        "data": {
            "type": "organization_invites",
            "attributes": {"recipient_email": "vip@example.com"},
        }
    }
    invite = client.send(
        "POST", f"/api/v2/organizations/{organization['id']}/invites", body, headers=login(owner)
    ).json["data"]
    patch = {"data": {"type": "users", "attributes": {"email": "vip@example.com"}}}
    assert client.send("PATCH", "/api/v2/profile", patch, headers=login(user)).status_code == 422
    assert request_change(client, login(user), "vip@example.com").status_code == 201
    accept = {
        "data": {
            "type": "organization_invites",
            "id": invite["id"],
            "attributes": {"code": invite["attributes"]["code"]},
        }
    }
    refused = client.send(
        "PUT",
        f"/api/v2/organizations/{organization['id']}/invites/{invite['id']}/accept",
        accept,
        headers=login(user),
    )
    assert refused.status_code == 403
    assert refused.json["errors"][0]["code"] == "recipient_mismatch"
    assert session.get(OrganizationInvite, invite["id"]).accepted_at is None


def test_no_code_reaches_the_logs(client, login, user, inbox, deliver, caplog):
    caplog.set_level(logging.DEBUG)
    change_id = request_change(client, login(user)).json["data"]["id"]
    code = mailed_code(inbox, deliver, "new.address@example.com")
    confirm(client, login(user), change_id, "f" * 64)
    confirm(client, login(user), change_id, code)
    confirm(client, login(user), change_id, code)
    ours = [r for r in caplog.records if r.name != SMTP_SERVER_LOG]
    assert any(r.name == "jsonapi_server.requests" for r in ours)
    assert not [r for r in ours if code in r.getMessage() or code in str(r.__dict__)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served(
        tmp_path_factory.mktemp("email_changes"), workers=4, prefix="jsonapi_server_email"
    ) as app:
        yield app


def test_two_concurrent_confirmations_one_succeeds(server):
    token = server.register("racer@example.com")
    status, _headers, body = server.call(
        "POST",
        "/api/v2/email-changes",
        change_request("raced@example.com", "long enough password"),
        token,
    )
    assert status == 201, body
    change_id = body["data"]["id"]
    engine = create_engine(server.database_url.replace("postgresql://", "postgresql+psycopg2://"))
    try:
        with engine.connect() as connection:
            mail = connection.execute(text("SELECT text_body FROM outbox_messages")).scalar_one()
    finally:
        engine.dispose()
    code = CODE.search(mail).group(1)
    path = f"/api/v2/email-changes/{change_id}/confirm"
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(
                lambda _: server.call("PUT", path, confirmation(change_id, code), token)[0],
                range(8),
            )
        )
    assert sorted(answers) == [200] + [409] * 7
    _status, _headers, profile = server.call("GET", "/api/v2/profile", token=token)
    assert profile["data"]["attributes"]["email"] == "raced@example.com"
