"""Invites: lifecycle, who may do what, acceptance, resending, includes and their cost."""

import re
import threading
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from jsonapi_server.extensions import db
from jsonapi_server.models import ChannelMember, Membership, OrganizationInvite

from .factories import UserFactory


@pytest.fixture
def org(api, user):
    return api.create_organization(user, name="Acme")


def invites_url(org):
    return f"/api/v2/organizations/{org['id']}/invites"


def invite_body(email, role=None):
    attributes = {"recipient_email": email}
    if role:
        attributes["invite_user_as"] = role
    return {"data": {"type": "organization_invites", "attributes": attributes}}


@pytest.fixture
def invite(client, login, user, org):
    def make(email="guest@example.com", role=None, actor=None):
        response = client.send(
            "POST", invites_url(org), invite_body(email, role), headers=login(actor or user)
        )
        assert response.status_code == 201, response.json
        return response.json["data"]

    return make


def accept(client, login, org, invite, recipient, code=None):
    body = {
        "data": {
            "type": "organization_invites",
            "attributes": {"code": code or invite["attributes"]["code"]},
        }
    }
    return client.send(
        "PUT", f"{invites_url(org)}/{invite['id']}/accept", body, headers=login(recipient)
    )


def invite_count(session):
    return session.scalar(select(func.count()).select_from(OrganizationInvite))


def expire(session, invite_id):
    session.execute(
        sa.update(OrganizationInvite)
        .where(OrganizationInvite.id == invite_id)
        .values(expires_at=func.now() - sa.text("interval '1 minute'"))
    )
    session.commit()


def test_create_defaults_and_email_is_lower_cased(invite):
    created = invite("Guest@Example.COM")
    attributes = created["attributes"]
    assert attributes["recipient_email"] == "guest@example.com"
    assert attributes["invite_user_as"] == "member"
    assert attributes["status"] == "pending"
    assert re.fullmatch(r"[0-9a-f]{64}", attributes["code"])
    assert attributes["last_sent_at"] == attributes["created_at"]


def test_codes_are_256_random_bits(invite):
    codes = {invite(f"g{number}@example.com")["attributes"]["code"] for number in range(5)}
    assert len(codes) == 5


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"recipient_email": "nope"}, "/data/attributes/recipient_email"),
        ({"recipient_email": "a" * 290 + "@example.com"}, "/data/attributes/recipient_email"),
        (
            {"recipient_email": "x@example.com", "invite_user_as": "owner"},
            "/data/attributes/invite_user_as",
        ),
        (
            {"recipient_email": "x@example.com", "invite_user_as": "king"},
            "/data/attributes/invite_user_as",
        ),
        ({}, "/data/attributes/recipient_email"),
    ],
)
def test_bad_input_is_422_and_changes_nothing(
    client, login, user, org, session, attributes, pointer
):
    before = invite_count(session)
    body = {"data": {"type": "organization_invites", "attributes": attributes}}
    response = client.send("POST", invites_url(org), body, headers=login(user))
    assert response.status_code == 422
    assert response.json["errors"][0]["source"]["pointer"] == pointer
    assert invite_count(session) == before


def test_a_second_pending_invite_is_409(client, login, user, org, invite):
    invite("guest@example.com")
    again = client.send(
        "POST", invites_url(org), invite_body("GUEST@example.com"), headers=login(user)
    )
    assert again.status_code == 409
    assert again.json["errors"][0]["code"] == "invite_pending"


def test_inviting_a_member_is_409(api, client, login, user, org):
    member = UserFactory()
    api.add_member(org["id"], user, member)
    response = client.send("POST", invites_url(org), invite_body(member.email), headers=login(user))
    assert response.json["errors"][0]["code"] == "already_member"


def test_an_expired_invite_gives_way_to_a_new_one(invite, session):
    first = invite("guest@example.com")
    expire(session, first["id"])
    assert invite("guest@example.com")["id"] != first["id"]


def test_members_get_403_strangers_404(api, client, login, user, org):
    member, stranger = UserFactory(), UserFactory()
    api.add_member(org["id"], user, member)
    assert client.get(invites_url(org), headers=login(member)).status_code == 403
    assert client.get(invites_url(org), headers=login(stranger)).status_code == 404
    body = invite_body("x@example.com")
    assert client.send("POST", invites_url(org), body, headers=login(member)).status_code == 403


def test_inviting_into_an_organization_that_does_not_exist_is_404(client, login, user):
    missing = {"id": str(uuid.uuid4())}
    response = client.send(
        "POST", invites_url(missing), invite_body("x@example.com"), headers=login(user)
    )
    assert response.status_code == 404, response.json


def test_members_cannot_include_invites(api, client, login, user, org, invite):
    member = UserFactory()
    api.add_member(org["id"], user, member)
    invite()
    url = f"/api/v2/organizations/{org['id']}"
    refused = client.get(url + "?include=invites", headers=login(member))
    assert refused.status_code == 403
    assert refused.json["errors"][0]["source"] == {"parameter": "include"}
    through = client.get(url + "/memberships?include=organization.invites", headers=login(member))
    assert through.status_code == 403
    allowed = client.get(url + "?include=invites", headers=login(user))
    assert len(allowed.json["included"]) == 1


def test_lists_hide_cancelled_invites_unless_asked(client, login, user, org, invite):
    kept, cancelled = invite("a@example.com"), invite("b@example.com")
    client.delete(f"{invites_url(org)}/{cancelled['id']}", headers=login(user))
    listed = client.get(invites_url(org), headers=login(user)).json["data"]
    assert [i["id"] for i in listed] == [kept["id"]]
    asked = client.get(invites_url(org) + "?filter[status]=cancelled", headers=login(user)).json[
        "data"
    ]
    assert [i["id"] for i in asked] == [cancelled["id"]]
    shown = client.get(f"{invites_url(org)}/{cancelled['id']}", headers=login(user)).json["data"]
    assert shown["attributes"]["status"] == "cancelled"
    assert shown["relationships"]["cancelled_by_user"]["data"]["id"] == str(user.id)


def test_sort_and_filters(client, login, user, org, invite):
    for email in ("c@example.com", "a@example.com", "b@example.com"):
        invite(email)
    document = client.get(invites_url(org) + "?sort=recipient_email", headers=login(user)).json
    assert [i["attributes"]["recipient_email"] for i in document["data"]] == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]
    assert document["meta"]["sort"] == "recipient_email"
    one = client.get(
        invites_url(org) + "?filter[recipient_email]=B@example.com", headers=login(user)
    ).json
    assert [i["attributes"]["recipient_email"] for i in one["data"]] == ["b@example.com"]
    assert (
        client.get(invites_url(org) + "?filter[status]=lost", headers=login(user)).status_code
        == 400
    )


class TestCancel:
    def test_cancel_is_idempotent(self, client, login, user, org, invite):
        created = invite()
        url = f"{invites_url(org)}/{created['id']}"
        assert client.delete(url, headers=login(user)).status_code == 204
        version = client.get(url, headers=login(user)).json["data"]["attributes"][
            "updated_in_db_at"
        ]
        assert client.delete(url, headers=login(user)).status_code == 204
        assert (
            client.get(url, headers=login(user)).json["data"]["attributes"]["updated_in_db_at"]
            == version
        )

    def test_accepted_invites_cannot_be_cancelled(self, client, login, user, org, invite):
        recipient = UserFactory(email="guest@example.com")
        created = invite()
        accept(client, login, org, created, recipient)
        response = client.delete(f"{invites_url(org)}/{created['id']}", headers=login(user))
        assert response.status_code == 409


class TestAccept:
    def test_accepting_makes_a_member_in_general(self, client, login, user, org, invite, session):
        recipient = UserFactory(email="guest@example.com")
        created = invite(role="admin")
        response = accept(client, login, org, created, recipient)
        assert response.status_code == 200
        membership = session.scalar(select(Membership).where(Membership.user_id == recipient.id))
        assert membership.role == "admin"
        assert (
            session.scalar(
                select(func.count())
                .select_from(ChannelMember)
                .where(ChannelMember.user_id == recipient.id)
            )
            == 1
        )

    def test_recipient_email_compares_case_insensitively(self, client, login, org, invite):
        recipient = UserFactory(email="guest@example.com")
        created = invite("GUEST@EXAMPLE.COM")
        assert accept(client, login, org, created, recipient).status_code == 200

    def test_wrong_code_is_403(self, client, login, org, invite, session):
        recipient = UserFactory(email="guest@example.com")
        response = accept(client, login, org, invite(), recipient, code="0" * 64)
        assert response.status_code == 403
        assert response.json["errors"][0]["code"] == "invalid_code"
        assert (
            session.scalar(
                select(func.count())
                .select_from(Membership)
                .where(Membership.user_id == recipient.id)
            )
            == 0
        )

    def test_someone_else_is_403(self, client, login, org, invite):
        response = accept(client, login, org, invite(), UserFactory())
        assert response.status_code == 403
        assert response.json["errors"][0]["code"] == "recipient_mismatch"

    def test_expired_is_410(self, client, login, org, invite, session):
        recipient = UserFactory(email="guest@example.com")
        created = invite()
        expire(session, created["id"])
        response = accept(client, login, org, created, recipient)
        assert response.status_code == 410
        assert response.json["errors"][0]["code"] == "invite_expired"

    def test_cancelled_is_410(self, client, login, user, org, invite):
        recipient = UserFactory(email="guest@example.com")
        created = invite()
        client.delete(f"{invites_url(org)}/{created['id']}", headers=login(user))
        response = accept(client, login, org, created, recipient)
        assert response.json["errors"][0]["code"] == "invite_cancelled"

    def test_twice_is_409(self, client, login, org, invite):
        recipient = UserFactory(email="guest@example.com")
        created = invite()
        accept(client, login, org, created, recipient)
        assert accept(client, login, org, created, recipient).status_code == 409

    @pytest.mark.parametrize(
        ("body", "status"),
        [
            (None, 400),
            ({"data": {"type": "organization_invites", "attributes": {}}}, 422),
            ({"data": {"type": "organization_invites", "attributes": {"code": "abc"}}}, 422),
            ({"data": {"type": "organization_invites", "attributes": {"code": "g" * 64}}}, 422),
        ],
    )
    def test_malformed_accepts(self, client, login, org, invite, body, status):
        created = invite()
        recipient = UserFactory(email="guest@example.com")
        url = f"{invites_url(org)}/{created['id']}/accept"
        assert client.send("PUT", url, body, headers=login(recipient)).status_code == status


def test_two_concurrent_accepts_one_wins(app, api, client, login, session):
    owner = UserFactory()
    org = api.create_organization(owner)
    recipient = UserFactory(email="race@example.com")
    created = client.send(
        "POST", invites_url(org), invite_body("race@example.com"), headers=login(owner)
    ).json["data"]
    headers = login(recipient)
    statuses = []
    with app.app_context():
        engine = db.engine
    with engine.connect() as holder:
        lock = holder.begin()
        holder.execute(
            sa.text("SELECT 1 FROM organization_invites WHERE id = :id FOR UPDATE"),
            {"id": created["id"]},
        )
        threads = [
            threading.Thread(
                target=lambda: statuses.append(
                    accept(client, lambda _: headers, org, created, recipient).status_code
                )
            )
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=0.5)
        assert all(thread.is_alive() for thread in threads)  # both wait on the row, together
        lock.rollback()
        for thread in threads:
            thread.join(timeout=10)
    assert sorted(statuses) == [200, 409]
    count = session.scalar(
        select(func.count()).select_from(Membership).where(Membership.user_id == recipient.id)
    )
    assert count == 1


def test_two_concurrent_invites_of_one_address_one_wins(app, api, client, login, session):
    owner = UserFactory()
    org = api.create_organization(owner)
    with app.app_context():
        engine = db.engine
    statuses = []
    with engine.connect() as other:
        transaction = other.begin()
        other.execute(
            sa.text(
                "INSERT INTO organization_invites (id, organization_id, recipient_email, "
                "invite_user_as, code, expires_at, last_sent_at, created_at, updated_at, "
                "updated_in_db_at) VALUES (gen_random_uuid(), :org, 'same@example.com', "
                "'member', md5(random()::text) || md5(random()::text), "
                "now() + interval '1 day', now(), now(), now(), now())"
            ),
            {"org": org["id"]},
        )
        racer = threading.Thread(
            target=lambda: statuses.append(
                client.send(
                    "POST", invites_url(org), invite_body("same@example.com"), headers=login(owner)
                ).status_code
            )
        )
        racer.start()
        racer.join(timeout=1.0)
        assert racer.is_alive()  # past its check, waiting on the partial unique index
        transaction.commit()
        racer.join(timeout=10)
    assert statuses == [409]


class TestResend:
    def test_too_soon_is_429_with_retry_after(self, client, login, user, org, invite):
        created = invite()
        response = client.put(f"{invites_url(org)}/{created['id']}/resend", headers=login(user))
        assert response.status_code == 429
        assert response.json["errors"][0]["code"] == "resend_too_soon"
        assert 1 <= int(response.headers["Retry-After"]) <= 60

    def test_resend_replaces_the_code_and_restarts_the_expiry(
        self, client, login, user, org, invite, session
    ):
        created = invite()
        session.execute(
            sa.update(OrganizationInvite)
            .where(OrganizationInvite.id == created["id"])
            .values(
                last_sent_at=func.now() - sa.text("interval '2 minutes'"),
                expires_at=func.now() - sa.text("interval '1 minute'"),
            )
        )
        session.commit()
        response = client.put(f"{invites_url(org)}/{created['id']}/resend", headers=login(user))
        assert response.status_code == 200
        attributes = response.json["data"]["attributes"]
        assert attributes["code"] != created["attributes"]["code"]
        assert attributes["status"] == "pending"
        recipient = UserFactory(email="guest@example.com")
        old = accept(client, login, org, created, recipient)
        assert old.json["errors"][0]["code"] == "invalid_code"
        assert accept(client, login, org, response.json["data"], recipient).status_code == 200

    def test_only_open_invites_are_resent_and_409_comes_before_429(
        self, client, login, user, org, invite
    ):
        created = invite()
        client.delete(f"{invites_url(org)}/{created['id']}", headers=login(user))
        response = client.put(f"{invites_url(org)}/{created['id']}/resend", headers=login(user))
        assert response.status_code == 409
        assert response.json["errors"][0]["code"] == "invite_not_pending"

    def test_stale_if_match_is_412_before_429(self, client, login, user, org, invite):
        created = invite()
        response = client.put(
            f"{invites_url(org)}/{created['id']}/resend", headers={**login(user), "If-Match": '"1"'}
        )
        assert response.status_code == 412


class TestUpdate:
    def test_role_of_a_pending_invite_changes(self, client, login, user, org, invite):
        created = invite()
        body = {
            "data": {
                "type": "organization_invites",
                "attributes": {
                    "invite_user_as": "admin",
                    "recipient_email": "ignored@example.com",
                    "code": "x",
                },
            }
        }
        response = client.send(
            "PATCH", f"{invites_url(org)}/{created['id']}", body, headers=login(user)
        )
        assert response.status_code == 200
        attributes = response.json["data"]["attributes"]
        assert attributes["invite_user_as"] == "admin"
        assert attributes["recipient_email"] == "guest@example.com"
        assert attributes["code"] == created["attributes"]["code"]

    def test_stale_base_is_409(self, client, login, user, org, invite):
        created = invite()
        url = f"{invites_url(org)}/{created['id']}"
        body = {"data": {"type": "organization_invites", "attributes": {"invite_user_as": "admin"}}}
        client.send("PATCH", url, body, headers=login(user))
        body["data"]["attributes"] = {
            "invite_user_as": "member",
            "updated_in_db_at": created["attributes"]["updated_in_db_at"],
        }
        assert client.send("PATCH", url, body, headers=login(user)).status_code == 409

    def test_an_accepted_invite_cannot_change(self, client, login, user, org, invite):
        created = invite()
        accept(client, login, org, created, UserFactory(email="guest@example.com"))
        body = {"data": {"type": "organization_invites", "attributes": {"invite_user_as": "admin"}}}
        response = client.send(
            "PATCH", f"{invites_url(org)}/{created['id']}", body, headers=login(user)
        )
        assert response.json["errors"][0]["code"] == "invite_not_pending"


def test_client_ids_and_replays(client, login, user, org):
    body = invite_body("offline@example.com")
    body["data"]["id"] = "11111111-1111-4111-8111-111111111111"
    first = client.send("POST", invites_url(org), body, headers=login(user))
    again = client.send("POST", invites_url(org), body, headers=login(user))
    assert first.status_code == again.status_code == 201
    assert first.json["data"]["id"] == again.json["data"]["id"] == body["data"]["id"]
    body["data"]["attributes"]["invite_user_as"] = "admin"
    assert client.send("POST", invites_url(org), body, headers=login(user)).status_code == 409


def test_pulls_bring_cancelled_invites(client, login, user, org, invite):
    created = invite()
    client.delete(f"{invites_url(org)}/{created['id']}", headers=login(user))
    pulled = client.get(
        invites_url(org) + "?filter[updated_since]=2000-01-01T00:00:00Z", headers=login(user)
    ).json
    assert [i["attributes"]["status"] for i in pulled["data"]] == ["cancelled"]


def test_the_etag_changes_when_an_invite_expires(client, login, user, org, invite, session):
    created = invite()
    url = f"{invites_url(org)}/{created['id']}"
    before = client.get(url, headers=login(user)).headers["ETag"]
    expire(session, created["id"])
    after = client.get(url, headers={**login(user), "If-None-Match": before})
    assert after.status_code == 200 and after.headers["ETag"] != before


def test_includes_one_level_through_and_relationship_endpoints(client, login, user, org, invite):
    created = invite()
    url = f"{invites_url(org)}/{created['id']}"
    document = client.get(
        url + "?include=invited_by_user,organization.owner", headers=login(user)
    ).json
    assert {(r["type"], r["id"]) for r in document["included"]} == {
        ("users", str(user.id)),
        ("organizations", org["id"]),
    }
    for name in ("invited_by_user", "accepted_by_user", "cancelled_by_user", "organization"):
        assert client.get(f"{url}/relationships/{name}", headers=login(user)).status_code == 200
        assert client.get(f"{url}/{name}", headers=login(user)).status_code == 200
    flat = client.get(f"/api/v2/organization-invites/{created['id']}", headers=login(user))
    assert flat.json["data"]["links"]["self"].endswith(url)


def test_list_of_100_costs_what_a_list_of_1_costs(client, login, user, org, session, count_queries):
    """Every relationship filled (invited by admins, accepted by recipients): one query per
    included type, whatever the page holds."""
    url = (
        invites_url(org)
        + "?include=invited_by_user,accepted_by_user,cancelled_by_user,organization&page[size]=100"
    )
    inviters = UserFactory.create_batch(3)
    session.add_all(
        Membership(organization_id=org["id"], user_id=u.id, role="admin") for u in inviters
    )
    session.commit()

    def invited_and_accepted(number: int) -> None:
        email = f"guest{number}@example.com"
        response = client.send(
            "POST", invites_url(org), invite_body(email), headers=login(inviters[number % 3])
        )
        accept(client, login, org, response.json["data"], UserFactory(email=email))

    invited_and_accepted(0)
    headers = login(user)  # before counting: making a token may refresh the user
    with count_queries() as one:
        assert len(client.get(url, headers=headers).json["data"]) == 1
    for number in range(1, 100):
        invited_and_accepted(number)
    with count_queries() as hundred:
        response = client.get(url, headers=headers)
    assert len(response.json["data"]) == 100
    # authentication with the caller's role, page (with its count, and the inviters,
    # accepters, cancellers and organization joined to it)
    assert len(one) == len(hundred) == 2
