"""Memberships: adding existing users with a role, role changes, removal and leaving, and the
organization's members as users."""

import pytest
from sqlalchemy import func, select

from jsonapi_server.models import ChannelMember, Membership

from .factories import UserFactory


@pytest.fixture
def org(api, user):
    return api.create_organization(user)


def memberships_url(org):
    return f"/api/v2/organizations/{org['id']}/memberships"


def add_body(user_id, role=None):
    body = {
        "data": {
            "type": "memberships",
            "relationships": {"user": {"data": {"type": "users", "id": str(user_id)}}},
        }
    }
    if role is not None:
        body["data"]["attributes"] = {"role": role}
    return body


def active_count(session):
    return session.scalar(
        select(func.count()).select_from(Membership).where(Membership.removed_at.is_(None))
    )


def test_add_defaults_to_member_and_can_include_the_user(client, login, user, org):
    newcomer = UserFactory()
    response = client.send(
        "POST", memberships_url(org) + "?include=user", add_body(newcomer.id), headers=login(user)
    )
    assert response.status_code == 201
    assert response.json["data"]["attributes"]["role"] == "member"
    assert response.json["included"][0]["id"] == str(newcomer.id)
    assert response.headers["Location"] == response.json["data"]["links"]["self"]


def general_channel(client, login, user, org) -> dict:
    channels = client.get(f"/api/v2/organizations/{org['id']}/channels", headers=login(user))
    [general] = [c for c in channels.json["data"] if c["attributes"]["name"] == "general"]
    return general


def test_an_added_member_joins_the_general_channel_as_an_invited_one_does(
    api, client, login, user, org, session
):
    before = general_channel(client, login, user, org)
    newcomer = UserFactory()
    api.add_member(org["id"], user, newcomer)
    after = general_channel(client, login, newcomer, org)
    assert after["attributes"]["members_count"] == before["attributes"]["members_count"] + 1
    assert after["attributes"]["updated_in_db_at"] > before["attributes"]["updated_in_db_at"]
    joined = session.scalar(
        select(ChannelMember).where(
            ChannelMember.channel_id == after["id"], ChannelMember.user_id == newcomer.id
        )
    )
    assert joined is not None
    members = client.get(
        f"/api/v2/organizations/{org['id']}/channels?filter[membership]=member",
        headers=login(newcomer),
    ).json["data"]
    assert [c["id"] for c in members] == [after["id"]]


@pytest.mark.parametrize(
    ("body_for", "status", "code"),
    [
        (lambda u: add_body(u.id, "owner"), 422, "owner_not_assignable"),
        (lambda u: add_body(u.id, "king"), 422, "invalid"),
        (lambda u: add_body("00000000-0000-4000-8000-000000000000"), 404, "not_found"),
        (
            lambda u: {"data": {"type": "memberships", "attributes": {"role": "member"}}},
            422,
            "invalid",
        ),
    ],
)
def test_bad_adds_change_nothing(client, login, user, org, session, body_for, status, code):
    before = active_count(session)
    response = client.send(
        "POST", memberships_url(org), body_for(UserFactory()), headers=login(user)
    )
    assert response.status_code == status, response.json
    assert response.json["errors"][0]["code"] == code
    assert active_count(session) == before


def test_adding_a_member_twice_is_409(api, client, login, user, org):
    newcomer = UserFactory()
    api.add_member(org["id"], user, newcomer)
    again = client.send("POST", memberships_url(org), add_body(newcomer.id), headers=login(user))
    assert again.status_code == 409
    assert again.json["errors"][0]["code"] == "already_member"


def test_the_organization_in_the_body_must_match_the_url(api, client, login, user, org):
    other = api.create_organization(user, name="Other")
    body = add_body(UserFactory().id)
    body["data"]["relationships"]["organization"] = {
        "data": {"type": "organizations", "id": other["id"]}
    }
    assert client.send("POST", memberships_url(org), body, headers=login(user)).status_code == 409


def test_flat_create_takes_the_organization_from_the_document(client, login, user, org):
    body = add_body(UserFactory().id)
    assert client.send("POST", "/api/v2/memberships", body, headers=login(user)).status_code == 422
    body["data"]["relationships"]["organization"] = {
        "data": {"type": "organizations", "id": org["id"]}
    }
    response = client.send("POST", "/api/v2/memberships", body, headers=login(user))
    assert response.status_code == 201
    assert response.json["data"]["links"]["self"].endswith(
        f"/organizations/{org['id']}/memberships/{response.json['data']['id']}"
    )
    flat = client.get(f"/api/v2/memberships/{response.json['data']['id']}", headers=login(user))
    assert flat.status_code == 200


def test_role_changes_and_the_owner_is_immutable(api, client, login, user, org):
    admin = UserFactory()
    membership = api.add_member(org["id"], user, admin, "member")
    url = f"{memberships_url(org)}/{membership['id']}"
    body = {"data": {"type": "memberships", "attributes": {"role": "admin"}}}
    assert (
        client.send("PATCH", url, body, headers=login(user)).json["data"]["attributes"]["role"]
        == "admin"
    )
    owner_membership = client.get(
        memberships_url(org) + "?filter[role]=owner", headers=login(user)
    ).json["data"][0]
    demote = {"data": {"type": "memberships", "attributes": {"role": "member"}}}
    response = client.send(
        "PATCH", f"{memberships_url(org)}/{owner_membership['id']}", demote, headers=login(admin)
    )
    assert response.status_code == 409
    assert response.json["errors"][0]["code"] == "owner_immutable"
    promote = {"data": {"type": "memberships", "attributes": {"role": "owner"}}}
    assert client.send("PATCH", url, promote, headers=login(user)).status_code == 422


def test_a_member_leaves_and_loses_its_channels(api, client, login, user, org, session):
    member = UserFactory()
    membership = api.add_member(org["id"], user, member)
    general = client.get(f"/api/v2/organizations/{org['id']}/channels", headers=login(user)).json[
        "data"
    ][0]
    join = {"data": [{"type": "users", "id": str(member.id)}]}
    client.send(
        "POST", general["relationships"]["members"]["links"]["self"], join, headers=login(member)
    )
    url = f"{memberships_url(org)}/{membership['id']}"
    assert client.delete(url, headers=login(member)).status_code == 204
    assert client.delete(url, headers=login(user)).status_code == 204  # already gone: no change
    assert (
        session.scalar(
            select(func.count())
            .select_from(ChannelMember)
            .where(ChannelMember.user_id == member.id)
        )
        == 0
    )
    assert (
        client.get(f"/api/v2/organizations/{org['id']}", headers=login(member)).status_code == 404
    )


def test_the_owner_cannot_leave(client, login, user, org):
    owner_membership = client.get(memberships_url(org), headers=login(user)).json["data"][0]
    response = client.delete(
        f"{memberships_url(org)}/{owner_membership['id']}", headers=login(user)
    )
    assert response.status_code == 409
    assert response.json["errors"][0]["code"] == "owner_cannot_leave"


def test_a_former_member_can_be_added_again(api, client, login, user, org):
    member = UserFactory()
    membership = api.add_member(org["id"], user, member)
    client.delete(f"{memberships_url(org)}/{membership['id']}", headers=login(user))
    again = api.add_member(org["id"], user, member, "admin")
    assert again["attributes"]["removed_at"] is None and again["attributes"]["role"] == "admin"


def test_members_as_users(api, client, login, user, org):
    others = UserFactory.create_batch(2)
    for other in others:
        api.add_member(org["id"], user, other)
    document = client.get(
        f"/api/v2/organizations/{org['id']}/users?sort=email", headers=login(user)
    ).json
    assert {u["id"] for u in document["data"]} == {str(u.id) for u in [user, *others]}
    assert document["meta"]["pagination"]["total_count"] == 3


def test_list_costs_the_same_statements_for_1_and_for_many(
    api, client, login, user, org, count_queries
):
    url = memberships_url(org) + "?include=user,organization"
    headers = login(user)  # before counting: making a token may refresh the user
    with count_queries() as one:
        assert len(client.get(url, headers=headers).json["data"]) == 1
    for other in UserFactory.create_batch(30):
        api.add_member(org["id"], user, other)
    with count_queries() as many:
        assert len(client.get(url + "&page[size]=100", headers=headers).json["data"]) == 31
    # authentication with the caller's role, page (with its count, users and organization joined)
    assert len(one) == len(many) == 2


def test_a_two_step_to_one_include_is_joined_into_the_page(
    api, client, login, user, org, count_queries
):
    """`organization.owner` is joined into the page's statement, step by step
    (db/records.py)."""
    for other in UserFactory.create_batch(3):
        api.add_member(org["id"], user, other)
    headers = login(user)
    with count_queries() as statements:
        document = client.get(
            memberships_url(org) + "?include=organization.owner", headers=headers
        ).json
    included = {(r["type"], r["id"]) for r in document["included"]}
    assert included == {("organizations", org["id"]), ("users", str(user.id))}
    assert all(
        m["relationships"]["organization"]["data"]["id"] == org["id"] for m in document["data"]
    )
    # authentication with the caller's role, page (with its count, the organization and its
    # owner)
    assert len(statements) == 2, statements
