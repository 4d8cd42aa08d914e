"""Organizations: creating (owner, `general` channel), listing, reading, changing, deleting."""

import pytest
from sqlalchemy import func, select

from jsonapi_server.models import (
    Channel,
    ChannelMember,
    DeletedRecord,
    Membership,
    Organization,
    OrganizationInvite,
)

from .factories import UserFactory


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_create_makes_the_caller_owner_with_a_general_channel(api, client, login, user, session):
    organization = api.create_organization(user, name="Acme", industry="tech", email="HQ@Acme.io")
    attributes = organization["attributes"]
    assert attributes["email"] == "hq@acme.io"
    assert (attributes["members_count"], attributes["channels_count"]) == (1, 1)
    assert organization["relationships"]["owner"]["data"] == {"type": "users", "id": str(user.id)}
    assert attributes["updated_at"] == attributes["updated_in_db_at"]
    membership = session.scalar(select(Membership).where(Membership.user_id == user.id))
    assert membership.role == "owner"
    general = session.scalar(
        select(Channel).where(Channel.organization_id == membership.organization_id)
    )
    assert general.name == "general" and general.owner_id == user.id
    assert count(session, ChannelMember, ChannelMember.channel_id == general.id) == 1


def test_create_answers_201_with_location(client, login, user):
    body = {"data": {"type": "organizations", "attributes": {"name": "Acme"}}}
    response = client.send("POST", "/api/v2/organizations?include=owner", body, headers=login(user))
    assert response.status_code == 201
    assert response.headers["Location"] == response.json["data"]["links"]["self"]
    assert [r["id"] for r in response.json["included"]] == [str(user.id)]


def test_the_seeds_updated_in_db_at_on_create_is_accepted_and_ignored(client, login, user):
    body = {
        "data": {
            "type": "organizations",
            "attributes": {"name": "Acme", "updated_in_db_at": "2021-11-23 14:38:02 UTC"},
        }
    }
    response = client.send("POST", "/api/v2/organizations", body, headers=login(user))
    assert response.status_code == 201
    assert not response.json["data"]["attributes"]["updated_in_db_at"].startswith("2021")


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"name": ""}, "/data/attributes/name"),
        ({"name": "x" * 101}, "/data/attributes/name"),
        ({"name": None}, "/data/attributes/name"),
        ({"name": "ok", "email": "not-an-email"}, "/data/attributes/email"),
        ({"name": "ok", "logo_url": "ftp://x/logo.png"}, "/data/attributes/logo_url"),
        ({"name": "ok", "logo_url": "not a url"}, "/data/attributes/logo_url"),
        ({"name": "ok", "updated_in_db_at": "yesterday"}, "/data/attributes/updated_in_db_at"),
        ({"description": "no name"}, "/data/attributes/name"),
    ],
)
def test_bad_input_is_422_and_changes_nothing(client, login, user, session, attributes, pointer):
    body = {"data": {"type": "organizations", "attributes": attributes}}
    response = client.send("POST", "/api/v2/organizations", body, headers=login(user))
    assert response.status_code == 422
    assert pointer in [e["source"]["pointer"] for e in response.json["errors"]]
    assert count(session, Organization) == 0


def test_wrong_type_is_409(client, login, user, session):
    body = {"data": {"type": "channels", "attributes": {"name": "x"}}}
    assert (
        client.send("POST", "/api/v2/organizations", body, headers=login(user)).status_code == 409
    )
    assert count(session, Organization) == 0


def test_list_shows_my_organizations_and_a_superadmin_all(api, client, login, user, superadmin):
    mine = api.create_organization(user, name="Mine")
    api.create_organization(UserFactory(), name="Theirs")
    listed = client.get("/api/v2/organizations", headers=login(user)).json
    assert [o["id"] for o in listed["data"]] == [mine["id"]]
    everything = client.get("/api/v2/organizations?sort=name", headers=login(superadmin)).json
    assert [o["attributes"]["name"] for o in everything["data"]] == ["Mine", "Theirs"]


def test_filter_by_name_and_sort(api, client, login, user):
    for name in ("Beta", "alpha", "Gamma"):
        api.create_organization(user, name=name)
    document = client.get(
        "/api/v2/organizations?filter[name]=A&sort=-name", headers=login(user)
    ).json
    assert [o["attributes"]["name"] for o in document["data"]] == ["Gamma", "Beta", "alpha"]
    assert document["meta"]["filter"] == {"name": "A"}
    only = client.get("/api/v2/organizations?filter[name]=alp", headers=login(user)).json
    assert [o["attributes"]["name"] for o in only["data"]] == ["alpha"]


def test_counts_follow_every_change(api, client, login, user):
    organization = api.create_organization(user)
    org = f"/api/v2/organizations/{organization['id']}"
    member = UserFactory()
    membership = api.add_member(organization["id"], user, member)
    api.create_channel(organization["id"], user, name="two")
    attributes = client.get(org, headers=login(user)).json["data"]["attributes"]
    assert (attributes["members_count"], attributes["channels_count"]) == (2, 2)
    client.delete(f"{org}/memberships/{membership['id']}", headers=login(user))
    attributes = client.get(org, headers=login(user)).json["data"]["attributes"]
    assert attributes["members_count"] == 1


def test_list_costs_the_same_statements_for_1_and_for_100(api, client, login, user, count_queries):
    api.create_organization(user)
    headers = login(user)  # before counting: making a token may refresh the user
    with count_queries() as one:
        assert (
            len(client.get("/api/v2/organizations?include=owner", headers=headers).json["data"])
            == 1
        )
    owners = UserFactory.create_batch(3)
    for number in range(99):
        organization = api.create_organization(owners[number % 3], name=f"org {number}")
        api.add_member(organization["id"], owners[number % 3], user)
    with count_queries() as hundred:
        response = client.get("/api/v2/organizations?include=owner&page[size]=100", headers=headers)
    assert len(response.json["data"]) == 100
    assert len(response.json["included"]) == 4
    # authentication, page (with its count, both member and channel counts as subqueries,
    # and the owners joined)
    assert len(one) == len(hundred) == 2


def test_patch_is_partial_and_put_is_patch(api, client, login, user):
    organization = api.create_organization(user, name="Acme", country="NG")
    url = f"/api/v2/organizations/{organization['id']}"
    body = {
        "data": {
            "type": "organizations",
            "id": organization["id"],
            "attributes": {"name": "Acme 2"},
        }
    }
    patched = client.send("PATCH", url, body, headers=login(user)).json["data"]["attributes"]
    assert (patched["name"], patched["country"]) == ("Acme 2", "NG")
    body["data"]["attributes"] = {"location": "Lagos"}
    put = client.send("PUT", url, body, headers=login(user)).json["data"]["attributes"]
    assert (put["name"], put["location"]) == ("Acme 2", "Lagos")


def test_patch_with_another_id_is_409(api, client, login, user):
    organization = api.create_organization(user)
    body = {"data": {"type": "organizations", "id": str(user.id), "attributes": {"name": "X"}}}
    url = f"/api/v2/organizations/{organization['id']}"
    assert client.send("PATCH", url, body, headers=login(user)).status_code == 409


def test_delete_cascades_and_leaves_one_tombstone(api, client, login, user, session):
    organization = api.create_organization(user)
    member = UserFactory()
    api.add_member(organization["id"], user, member)
    api.create_channel(organization["id"], user)
    invite = {
        "data": {"type": "organization_invites", "attributes": {"recipient_email": "g@example.com"}}
    }
    client.send(
        "POST", f"/api/v2/organizations/{organization['id']}/invites", invite, headers=login(user)
    )
    assert count(session, OrganizationInvite) == 1
    response = client.delete(f"/api/v2/organizations/{organization['id']}", headers=login(user))
    assert response.status_code == 204
    assert count(session, Organization) == count(session, OrganizationInvite) == 0
    assert (
        count(session, Membership) == count(session, Channel) == count(session, ChannelMember) == 0
    )
    assert count(session, DeletedRecord) == 1
    again = client.get(f"/api/v2/organizations/{organization['id']}", headers=login(user))
    assert again.status_code == 404


def test_relationship_endpoints(api, client, login, user):
    organization = api.create_organization(user)
    url = f"/api/v2/organizations/{organization['id']}"
    owner = organization["relationships"]["owner"]
    linkage = client.get(owner["links"]["self"], headers=login(user)).json
    assert linkage["data"] == {"type": "users", "id": str(user.id)}
    related = client.get(owner["links"]["related"], headers=login(user)).json
    assert related["data"]["attributes"]["email"] == user.email
    memberships = client.get(f"{url}/relationships/memberships", headers=login(user)).json
    assert len(memberships["data"]) == 1
    assert (
        client.get(
            organization["relationships"]["channels"]["links"]["related"], headers=login(user)
        ).status_code
        == 200
    )


def test_a_shared_organization_makes_users_visible(api, client, login, user):
    other = UserFactory()
    assert client.get(f"/api/v2/users/{other.id}", headers=login(user)).status_code == 404
    organization = api.create_organization(user)
    api.add_member(organization["id"], user, other)
    assert client.get(f"/api/v2/users/{other.id}", headers=login(user)).status_code == 200
