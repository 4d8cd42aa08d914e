"""`is_superadmin` is shown to the user themself and to superadmins only, wherever a `users`
resource is written: the primary data, `included`, the members' listing, sparse fieldsets."""

import pytest

from .factories import UserFactory


@pytest.fixture
def team(api, session):
    """An organization whose members are an owner, a superadmin and a plain member."""
    owner, admin_of_all, member = UserFactory(), UserFactory(is_superadmin=True), UserFactory()
    organization = api.create_organization(owner)
    api.add_member(organization["id"], owner, admin_of_all)
    api.add_member(organization["id"], owner, member)
    return organization, owner, admin_of_all, member


def attributes_by_id(resources) -> dict:
    return {r["id"]: r.get("attributes", {}) for r in resources if r["type"] == "users"}


def test_a_member_does_not_see_whether_a_co_member_is_superadmin(client, login, team):
    organization, owner, admin_of_all, member = team
    listing = client.get("/api/v2/users", headers=login(member)).json["data"]
    seen = attributes_by_id(listing)
    assert "is_superadmin" not in seen[str(admin_of_all.id)]
    assert "is_superadmin" not in seen[str(owner.id)]
    assert seen[str(member.id)]["is_superadmin"] is False  # their own
    one = client.get(f"/api/v2/users/{admin_of_all.id}", headers=login(member)).json["data"]
    assert "is_superadmin" not in one["attributes"] and one["attributes"]["email"]
    members = client.get(
        f"/api/v2/organizations/{organization['id']}/users", headers=login(member)
    ).json["data"]
    assert all(
        "is_superadmin" not in a
        for i, a in attributes_by_id(members).items()
        if i != str(member.id)
    )


def test_nor_in_included_users_nor_when_asked_for_by_name(client, login, team):
    organization, _owner, admin_of_all, member = team
    document = client.get(
        f"/api/v2/organizations/{organization['id']}/memberships?include=user",
        headers=login(member),
    ).json
    included = attributes_by_id(document["included"])
    assert "is_superadmin" not in included[str(admin_of_all.id)]
    assert included[str(member.id)]["is_superadmin"] is False
    sparse = client.get(
        f"/api/v2/users/{admin_of_all.id}?fields[users]=is_superadmin,email", headers=login(member)
    ).json["data"]
    assert sparse["attributes"] == {"email": admin_of_all.email}


def test_the_user_themself_and_superadmins_see_it(client, login, team):
    _organization, owner, admin_of_all, member = team
    profile = client.get("/api/v2/profile", headers=login(admin_of_all)).json["data"]
    assert profile["attributes"]["is_superadmin"] is True
    seen = attributes_by_id(client.get("/api/v2/users", headers=login(admin_of_all)).json["data"])
    assert seen[str(member.id)]["is_superadmin"] is False
    assert seen[str(owner.id)]["is_superadmin"] is False


def test_a_new_account_and_a_sign_in_show_their_own(client, session):
    body = {
        "data": {
            "type": "users",
            "attributes": {"email": "me@example.com", "password": "long enough"},
        }
    }
    registered = client.send("POST", "/api/v2/users", body)
    assert registered.json["data"]["attributes"]["is_superadmin"] is False
    credentials = {
        "data": {
            "type": "tokens",
            "attributes": {"email": "me@example.com", "password": "long enough"},
        }
    }
    signed_in = client.send("POST", "/api/v2/auth/tokens?include=user", credentials)
    [user] = signed_in.json["included"]
    assert user["attributes"]["is_superadmin"] is False
