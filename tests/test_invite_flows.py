"""The Telex invitation flows: batches with per-address errors, public code verification,
sign-up through an invitation; and the emails they send through the outbox."""

import re

import pytest
from sqlalchemy import func, select

from jsonapi_server.models import Membership, OrganizationInvite, OutboxMessage, User
from jsonapi_server.times import utc_now

from .development import sqlite_app_with_owner
from .factories import UserFactory


@pytest.fixture
def org(api, user):
    return api.create_organization(user, name="Acme Corp")


def batch(client, login, user, org, emails, **attributes):
    body = {
        "data": {"type": "invite_batches", "attributes": {"recipient_emails": emails, **attributes}}
    }
    return client.send(
        "POST", f"/api/v2/organizations/{org['id']}/invite-batches", body, headers=login(user)
    )


def create_invite(client, login, user, org, email="guest@example.com", role="member"):
    body = {
        "data": {
            "type": "organization_invites",
            "attributes": {"recipient_email": email, "invite_user_as": role},
        }
    }
    response = client.send(
        "POST", f"/api/v2/organizations/{org['id']}/invites", body, headers=login(user)
    )
    assert response.status_code == 201
    return response.json["data"]


class TestBatches:
    def test_partial_success_with_an_error_per_address(self, api, client, login, user, org):
        member = UserFactory()
        api.add_member(org["id"], user, member)
        create_invite(client, login, user, org, "pending@example.com")
        emails = [
            "new@example.com",
            "NEW@example.com",
            "not-an-email",
            member.email,
            "pending@example.com",
            "other@example.com",
        ]
        response = batch(client, login, user, org, emails, invite_user_as="admin")
        assert response.status_code == 201
        assert "Location" not in response.headers
        attributes = response.json["data"]["attributes"]
        assert attributes["created_count"] == 2 and attributes["resent_count"] == 0
        assert [(e["recipient_email"], e["code"]) for e in attributes["errors"]] == [
            ("NEW@example.com", "duplicate_in_batch"),
            ("not-an-email", "invalid_email"),
            (member.email, "already_member"),
            ("pending@example.com", "invite_pending"),
        ]
        included = response.json["included"]
        assert sorted(i["attributes"]["recipient_email"] for i in included) == [
            "new@example.com",
            "other@example.com",
        ]
        assert all(i["attributes"]["invite_user_as"] == "admin" for i in included)
        linkage = response.json["data"]["relationships"]["invites"]["data"]
        assert {i["id"] for i in linkage} == {i["id"] for i in included}

    def test_resend_pending_resends_unless_too_soon(self, client, login, user, org, session):
        create_invite(client, login, user, org, "pending@example.com")
        too_soon = batch(
            client, login, user, org, ["pending@example.com"], resend_pending=True
        ).json
        assert too_soon["data"]["attributes"]["errors"][0]["code"] == "resend_too_soon"
        session.execute(
            OrganizationInvite.__table__.update().values(
                last_sent_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 2)
            )
        )
        session.commit()
        resent = batch(client, login, user, org, ["pending@example.com"], resend_pending=True).json
        assert resent["data"]["attributes"]["resent_count"] == 1

    @pytest.mark.parametrize("new", [1, 5])
    def test_a_batch_writes_its_invites_and_their_emails_in_one_insert_each(
        self, client, login, user, org, session, count_queries, new
    ):
        create_invite(client, login, user, org, "pending@example.com")
        session.execute(
            OrganizationInvite.__table__.update().values(
                last_sent_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 2)
            )
        )
        session.commit()
        addresses = ["pending@example.com", *(f"new{n}@example.com" for n in range(new))]
        headers = login(user)  # signing in writes its session: not the batch's statements
        with count_queries() as statements:
            response = batch(
                client, lambda _user: headers, user, org, addresses, resend_pending=True
            )
        assert response.status_code == 201, response.json
        counts = response.json["data"]["attributes"]
        assert (counts["created_count"], counts["resent_count"]) == (new, 1)
        inserts = [s.split("(")[0].strip() for s in statements if s.startswith("INSERT")]
        assert inserts == ["INSERT INTO organization_invites", "INSERT INTO outbox_messages"]
        # every invite written, with its email: the first invite's, the resend's, the new ones'
        assert session.scalar(select(func.count()).select_from(OrganizationInvite)) == 1 + new
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2 + new

    @pytest.mark.parametrize(
        ("attributes", "pointer"),
        [
            ({"recipient_emails": []}, "/data/attributes/recipient_emails"),
            (
                {"recipient_emails": [f"a{n}@example.com" for n in range(101)]},
                "/data/attributes/recipient_emails",
            ),
            ({"recipient_emails": "a@example.com"}, "/data/attributes/recipient_emails"),
            (
                {"recipient_emails": ["a@example.com"], "invite_user_as": "owner"},
                "/data/attributes/invite_user_as",
            ),
        ],
    )
    def test_bad_batches_are_422_and_invite_nobody(
        self, client, login, user, org, session, attributes, pointer
    ):
        body = {"data": {"type": "invite_batches", "attributes": attributes}}
        response = client.send(
            "POST", f"/api/v2/organizations/{org['id']}/invite-batches", body, headers=login(user)
        )
        assert response.status_code == 422
        assert response.json["errors"][0]["source"]["pointer"] == pointer
        assert session.scalar(select(func.count()).select_from(OrganizationInvite)) == 0

    def test_members_cannot_batch(self, api, client, login, user, org):
        member = UserFactory()
        api.add_member(org["id"], user, member)
        assert batch(client, login, member, org, ["x@example.com"]).status_code == 403


class TestVerification:
    def verify(self, client, code, query=""):
        body = {"data": {"type": "invite_verifications", "attributes": {"code": code}}}
        return client.send("POST", f"/api/v2/invite-verifications{query}", body)

    def test_a_code_tells_who_and_what_for_without_signing_in(self, client, login, user, org):
        invite = create_invite(client, login, user, org, role="admin")
        response = self.verify(client, invite["attributes"]["code"], "?include=organization")
        assert response.status_code == 201
        assert "Location" not in response.headers
        attributes = response.json["data"]["attributes"]
        assert attributes == {
            "recipient_email": "guest@example.com",
            "invite_user_as": "admin",
            "status": "pending",
            "expires_at": invite["attributes"]["expires_at"],
            "recipient_has_account": False,
        }
        assert "code" not in attributes
        assert response.json["included"][0]["attributes"]["name"] == "Acme Corp"
        assert response.json["data"]["relationships"]["invite"]["data"]["id"] == invite["id"]

    def test_unknown_is_404_cancelled_410_accepted_409(self, client, login, user, org):
        assert self.verify(client, "a" * 64).status_code == 404
        invite = create_invite(client, login, user, org)
        client.delete(
            f"/api/v2/organizations/{org['id']}/invites/{invite['id']}", headers=login(user)
        )
        assert self.verify(client, invite["attributes"]["code"]).status_code == 410
        accepted = create_invite(client, login, user, org, "taken@example.com")
        recipient = UserFactory(email="taken@example.com")
        body = {
            "data": {
                "type": "organization_invites",
                "attributes": {"code": accepted["attributes"]["code"]},
            }
        }
        client.send(
            "PUT",
            f"/api/v2/organizations/{org['id']}/invites/{accepted['id']}/accept",
            body,
            headers=login(recipient),
        )
        assert self.verify(client, accepted["attributes"]["code"]).status_code == 409

    @pytest.mark.parametrize("code", ["short", "A" * 64, "a" * 65, 12])
    def test_a_code_of_the_wrong_form_is_422(self, client, code):
        response = self.verify(client, code)
        assert response.status_code == 422
        assert response.json["errors"][0]["source"]["pointer"] == "/data/attributes/code"


class TestSignUpThroughAnInvite:
    def register(self, client, email, code):
        body = {
            "data": {
                "type": "users",
                "attributes": {"email": email, "password": "long enough", "invite_code": code},
            }
        }
        return client.send("POST", "/api/v2/users", body)

    def test_creates_a_verified_member_and_returns_tokens(self, client, login, user, org, session):
        invite = create_invite(client, login, user, org, role="admin")
        response = self.register(client, "Guest@Example.com", invite["attributes"]["code"])
        assert response.status_code == 201
        assert response.json["data"]["attributes"]["is_verified"] is True
        assert response.json["meta"]["access_token"]
        new_user = session.scalar(select(User).where(User.email == "guest@example.com"))
        membership = session.scalar(select(Membership).where(Membership.user_id == new_user.id))
        assert membership.role == "admin"
        stored = session.get(OrganizationInvite, invite["id"])
        session.refresh(stored)
        assert stored.accepted_by_user_id == new_user.id

    def test_refusals_create_no_account(self, client, login, user, org, session):
        invite = create_invite(client, login, user, org)
        unknown = self.register(client, "guest@example.com", "b" * 64)
        assert unknown.status_code == 422 and unknown.json["errors"][0]["code"] == "invalid_code"
        mismatch = self.register(client, "someone@example.com", invite["attributes"]["code"])
        assert (
            mismatch.status_code == 403
            and mismatch.json["errors"][0]["code"] == "recipient_mismatch"
        )
        client.delete(
            f"/api/v2/organizations/{org['id']}/invites/{invite['id']}", headers=login(user)
        )
        cancelled = self.register(client, "guest@example.com", invite["attributes"]["code"])
        assert cancelled.status_code == 410
        assert (
            session.scalar(
                select(func.count())
                .select_from(User)
                .where(User.email.in_(["guest@example.com", "someone@example.com"]))
            )
            == 0
        )


class TestEmail:
    def test_the_invitation_email(self, app, client, login, user, org, inbox, deliver):
        invite = create_invite(client, login, user, org, role="admin")
        assert deliver() == 1
        [message] = inbox
        assert message["To"] == "guest@example.com"
        assert "Acme Corp" in message["Subject"]
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        for body in (text, html):
            assert "Acme Corp" in body
            assert (user.full_name or user.email) in body
            assert "an admin" in body
            assert invite["attributes"]["code"] in body
            assert invite["attributes"]["expires_at"][:10] in body
        url = app.config["INVITE_URL_TEMPLATE"].format(
            code=invite["attributes"]["code"], invite_id=invite["id"], organization_id=org["id"]
        )
        assert url in text
        assert deliver() == 0  # sent once

    def test_names_are_escaped_in_the_html_and_kept_in_the_text(
        self, api, client, login, user, inbox, deliver
    ):
        org = api.create_organization(user, name="<b>Tom & Jerry</b>")
        create_invite(client, login, user, org)
        assert deliver() == 1
        [message] = inbox
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "<b>Tom & Jerry</b>" in text
        assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;" in html and "<b>Tom" not in html

    def test_the_email_is_written_with_the_invite(self, client, login, user, org, session):
        create_invite(client, login, user, org)
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        body = {"data": {"type": "organization_invites", "attributes": {"recipient_email": "bad"}}}
        client.send("POST", f"/api/v2/organizations/{org['id']}/invites", body, headers=login(user))
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1

    def test_resend_sends_the_new_code(self, client, login, user, org, session, inbox, deliver):
        invite = create_invite(client, login, user, org)
        session.execute(
            OrganizationInvite.__table__.update().values(
                last_sent_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 2)
            )
        )
        session.commit()
        resent = client.put(
            f"/api/v2/organizations/{org['id']}/invites/{invite['id']}/resend", headers=login(user)
        ).json
        deliver()
        codes = [
            re.search(r"code=([0-9a-f]{64})", m.get_body(("plain",)).get_content()).group(1)
            for m in inbox
        ]
        assert codes == [invite["attributes"]["code"], resent["data"]["attributes"]["code"]]


def test_no_email_is_lost_or_sent_twice_when_smtp_is_down(
    app, api, client, login, session, smtp_server, deliver
):
    user = UserFactory()
    org = api.create_organization(user)
    smtp_server.inbox.messages.clear()
    smtp_server.stop()
    try:
        for number in range(3):
            create_invite(client, login, user, org, f"guest{number}@example.com")
        assert deliver() == 0
        failed = session.scalars(select(OutboxMessage)).all()
        assert all(m.attempts == 1 and m.last_error and m.sent_at is None for m in failed)
        assert all(m.next_attempt_at > m.created_at for m in failed)  # backed off
    finally:
        smtp_server.start()
    session.execute(OutboxMessage.__table__.update().values(next_attempt_at=utc_now()))
    session.commit()
    assert deliver() == 3
    assert deliver() == 0
    recipients = sorted(m["To"] for m in smtp_server.inbox.messages)
    assert recipients == [f"guest{number}@example.com" for number in range(3)]


def test_two_workers_never_send_one_email_twice(app, api, client, login, session, inbox):
    import threading

    from jsonapi_server.services import outbox

    user = UserFactory()
    org = api.create_organization(user)
    for number in range(12):
        create_invite(client, login, user, org, f"w{number}@example.com")
    app.config["OUTBOX_BATCH_SIZE"] = 3
    sent = []

    def worker():
        with app.app_context():
            while count := outbox.deliver_due():
                sent.append(count)

    try:
        workers = [threading.Thread(target=worker) for _ in range(2)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=30)
    finally:
        app.config["OUTBOX_BATCH_SIZE"] = 20
    assert sum(sent) == 12
    assert sorted(m["To"] for m in inbox) == sorted(
        f"w{number}@example.com" for number in range(12)
    )


def test_flask_outbox_run_once_delivers(app, client, login, user, org, inbox):
    create_invite(client, login, user, org)
    result = app.test_cli_runner().invoke(args=["outbox", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert [m["To"] for m in inbox] == ["guest@example.com"]


def test_a_stale_if_match_on_accept_is_412_and_accepts_nothing(client, login, user, org, session):
    invite = create_invite(client, login, user, org)
    recipient = UserFactory(email="guest@example.com")
    body = {
        "data": {
            "type": "organization_invites",
            "attributes": {"code": invite["attributes"]["code"]},
        }
    }
    url = f"/api/v2/organizations/{org['id']}/invites/{invite['id']}/accept"
    response = client.send("PUT", url, body, headers={**login(recipient), "If-Match": '"1"'})
    assert response.status_code == 412
    assert response.json["errors"][0]["meta"]["current"]["id"] == invite["id"]
    assert (
        session.scalar(
            select(func.count()).select_from(Membership).where(Membership.user_id == recipient.id)
        )
        == 0
    )


def test_inviting_on_sqlite_checks_and_lists_as_on_postgresql(tmp_path):
    # SQLite (development) has no clock_timestamp(): the address's checks run one by one.
    development = sqlite_app_with_owner(tmp_path)
    client, media, owner_id = development.client, development.headers, development.owner_id
    organization = {"data": {"type": "organizations", "attributes": {"name": "Dev"}}}
    created = client.post("/api/v2/organizations", json=organization, headers=media)
    assert created.status_code == 201, created.json
    url = f"/api/v2/organizations/{created.json['data']['id']}/invites"

    def invite(address: str):
        body = {"data": {"type": "organization_invites", "attributes": {}}}
        body["data"]["attributes"]["recipient_email"] = address
        return client.post(url, json=body, headers=media)

    assert invite("guest@example.com").status_code == 201
    again = invite("guest@example.com")
    assert (again.status_code, again.json["errors"][0]["code"]) == (409, "invite_pending")
    member = invite("owner@example.com")
    assert (member.status_code, member.json["errors"][0]["code"]) == (409, "already_member")
    # and reading them back: a listing's statement goes SQLAlchemy's way on SQLite
    listed = client.get(url + "?include=invited_by_user", headers=media)
    assert listed.status_code == 200, listed.json
    assert [i["attributes"]["recipient_email"] for i in listed.json["data"]] == [
        "guest@example.com"
    ]
    # records hold ids and times as text here too, in the form PostgreSQL's would have
    [listed_invite] = listed.json["data"]
    assert listed_invite["relationships"]["invited_by_user"]["data"]["id"] == owner_id
    assert listed.json["included"][0]["id"] == owner_id
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", listed_invite["attributes"]["created_at"]
    )
    development.dispose()
