"""Channels: unique names per organization (decided by the database), archiving, the
membership filters of the Telex seed, and joining and leaving."""

import threading

import pytest
import sqlalchemy as sa

from jsonapi_server.extensions import db

from .factories import UserFactory


@pytest.fixture
def org(api, user):
    return api.create_organization(user)


def channels_url(org):
    return f"/api/v2/organizations/{org['id']}/channels"


def names(document):
    return sorted(c["attributes"]["name"] for c in document["data"])


def test_any_member_creates_and_owns_and_joins(api, client, login, user, org):
    member = UserFactory()
    api.add_member(org["id"], user, member)
    channel = api.create_channel(org["id"], member, name="ideas")
    assert channel["relationships"]["owner"]["data"]["id"] == str(member.id)
    assert channel["attributes"]["members_count"] == 1


@pytest.mark.parametrize("name", ["GENERAL", "General", " general "])
def test_names_are_unique_whatever_their_case(client, login, user, org, name):
    body = {"data": {"type": "channels", "attributes": {"name": name}}}
    response = client.send("POST", channels_url(org), body, headers=login(user))
    assert response.status_code == 409
    assert response.json["errors"][0]["code"] == "name_taken"


@pytest.mark.parametrize("name", ["", "   ", "x" * 81, None])
def test_bad_names_are_422(client, login, user, org, name):
    body = {"data": {"type": "channels", "attributes": {"name": name}}}
    response = client.send("POST", channels_url(org), body, headers=login(user))
    assert response.status_code == 422
    assert response.json["errors"][0]["source"]["pointer"] == "/data/attributes/name"


def test_the_same_name_in_another_organization_is_fine(api, user, org):
    other = api.create_organization(user, name="Other")
    api.create_channel(org["id"], user, name="shared")
    api.create_channel(other["id"], user, name="shared")


def test_the_database_decides_a_race_for_a_name(app, api, client, login, session):
    """A create whose check passed while another transaction inserts the same name waits on
    the unique index and gets 409 once the other commits."""
    user = UserFactory()
    org = api.create_organization(user)
    with app.app_context():
        engine = db.engine
    results = {}
    with engine.connect() as other:
        transaction = other.begin()
        other.execute(
            sa.text(
                "INSERT INTO channels (id, organization_id, name, archived, created_at, "
                "updated_at, updated_in_db_at) VALUES (gen_random_uuid(), :org, 'Race', false, "
                "now(), now(), now())"
            ),
            {"org": org["id"]},
        )
        body = {"data": {"type": "channels", "attributes": {"name": "race"}}}

        def create():
            results["status"] = client.send(
                "POST", channels_url(org), body, headers=login(user)
            ).status_code

        racer = threading.Thread(target=create)
        racer.start()
        racer.join(timeout=1.0)
        assert racer.is_alive()  # blocked on the unique index, past the name check
        transaction.commit()
        racer.join(timeout=10)
    assert results["status"] == 409


def test_archived_channels_are_hidden_unless_asked_for(api, client, login, user, org):
    channel = api.create_channel(org["id"], user, name="old")
    body = {"data": {"type": "channels", "attributes": {"archived": True}}}
    archived = client.send(
        "PATCH", f"{channels_url(org)}/{channel['id']}", body, headers=login(user)
    ).json
    assert archived["data"]["attributes"]["archived_at"] is not None
    assert names(client.get(channels_url(org), headers=login(user)).json) == ["general"]
    shown = client.get(channels_url(org) + "?filter[archived]=true", headers=login(user)).json
    assert names(shown) == ["old"]
    organization = client.get(f"/api/v2/organizations/{org['id']}", headers=login(user)).json
    assert organization["data"]["attributes"]["channels_count"] == 1


def test_membership_filters(api, client, login, user, org):
    member = UserFactory()
    api.add_member(org["id"], user, member)  # which puts them in general
    api.create_channel(org["id"], member, name="mine")
    api.create_channel(org["id"], user, name="theirs")
    as_member = login(member)
    joined = client.get(channels_url(org) + "?filter[membership]=member", headers=as_member).json
    assert names(joined) == ["general", "mine"]
    others = client.get(
        channels_url(org) + "?filter[membership]=non_member", headers=as_member
    ).json
    assert names(others) == ["theirs"]
    bad = client.get(channels_url(org) + "?filter[membership]=maybe", headers=as_member)
    assert bad.status_code == 400


def test_join_and_leave(api, client, login, user, org):
    member = UserFactory()
    api.add_member(org["id"], user, member)
    channel = api.create_channel(org["id"], user, name="talk")
    members_url = channel["relationships"]["members"]["links"]["self"]
    me = {"data": [{"type": "users", "id": str(member.id)}]}
    joined = client.send("POST", members_url, me, headers=login(member))
    assert joined.status_code == 200
    assert {"type": "users", "id": str(member.id)} in joined.json["data"]
    again = client.send("POST", members_url, me, headers=login(member))
    assert len(again.json["data"]) == 2  # no duplicate
    left = client.send("DELETE", members_url, me, headers=login(member))
    assert {"type": "users", "id": str(member.id)} not in left.json["data"]
    assert client.send("DELETE", members_url, me, headers=login(member)).status_code == 200


def test_archived_channels_cannot_be_joined(api, client, login, user, org):
    member = UserFactory()
    api.add_member(org["id"], user, member)
    channel = api.create_channel(org["id"], user, name="old", archived=True)
    me = {"data": [{"type": "users", "id": str(member.id)}]}
    url = channel["relationships"]["members"]["links"]["self"]
    response = client.send("POST", url, me, headers=login(member))
    assert response.status_code == 409
    assert response.json["errors"][0]["code"] == "channel_archived"


def test_strangers_cannot_be_added_to_a_channel(api, client, login, user, org):
    channel = api.create_channel(org["id"], user, name="x")
    stranger = {"data": [{"type": "users", "id": str(UserFactory().id)}]}
    url = channel["relationships"]["members"]["links"]["self"]
    assert client.send("POST", url, stranger, headers=login(user)).status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"data": {"type": "users", "id": "x"}}, 400),
        ({"data": [{"type": "channels", "id": "00000000-0000-4000-8000-000000000000"}]}, 409),
        ({"data": [{"type": "users"}]}, 400),
    ],
)
def test_bad_member_documents(api, client, login, user, org, body, status):
    channel = api.create_channel(org["id"], user, name="x")
    url = channel["relationships"]["members"]["links"]["self"]
    assert client.send("POST", url, body, headers=login(user)).status_code == status


def test_channel_owner_may_edit_but_not_delete(api, client, login, user, org):
    member = UserFactory()
    api.add_member(org["id"], user, member)
    channel = api.create_channel(org["id"], member, name="mine")
    url = f"{channels_url(org)}/{channel['id']}"
    body = {"data": {"type": "channels", "attributes": {"description": "about"}}}
    assert client.send("PATCH", url, body, headers=login(member)).status_code == 200
    assert client.delete(url, headers=login(member)).status_code == 403


def test_rename_to_a_taken_name_is_409(api, client, login, user, org):
    channel = api.create_channel(org["id"], user, name="one")
    body = {"data": {"type": "channels", "attributes": {"name": "General"}}}
    url = f"{channels_url(org)}/{channel['id']}"
    assert client.send("PATCH", url, body, headers=login(user)).status_code == 409


def test_list_costs_the_same_statements_for_1_and_for_many(
    api, client, login, user, org, count_queries
):
    url = channels_url(org) + "?include=organization,owner,members"
    headers = login(user)  # before counting: making a token may refresh the user
    with count_queries() as one:
        assert len(client.get(url, headers=headers).json["data"]) == 1
    for number in range(20):
        api.create_channel(org["id"], user, name=f"c{number}")
    with count_queries() as many:
        assert len(client.get(url + "&page[size]=100", headers=headers).json["data"]) == 21
    # authentication with the caller's role, page (with its count, organization and owner
    # joined), members
    assert len(one) == len(many) == 3
