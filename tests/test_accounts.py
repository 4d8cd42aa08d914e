"""Registration, profiles and who may see which user."""

import pytest
from sqlalchemy import func, select

from jsonapi_server.models import User

from .factories import UserFactory


def registration(email="new@example.com", password="long enough", **attributes):
    return {
        "data": {
            "type": "users",
            "attributes": {"email": email, "password": password, **attributes},
        }
    }


def user_count(session) -> int:
    return session.scalar(select(func.count()).select_from(User))


def test_registration_creates_an_account_and_returns_tokens(client, session):
    response = client.send("POST", "/api/v2/users", registration(email="Ann@Example.COM"))
    assert response.status_code == 201
    document = response.json
    assert document["data"]["attributes"]["email"] == "ann@example.com"
    assert document["data"]["attributes"]["is_verified"] is False
    assert "password" not in document["data"]["attributes"]
    assert response.headers["Location"] == document["data"]["links"]["self"]
    assert document["meta"]["access_token"] and document["meta"]["refresh_token"]
    stored = session.scalar(select(User).where(User.email == "ann@example.com"))
    assert stored.password_hash != "long enough"
    assert stored.password_hash.startswith("pbkdf2:")
    profile = client.get(
        "/api/v2/profile", headers={"Authorization": f"Bearer {document['meta']['access_token']}"}
    )
    assert profile.json["data"]["id"] == document["data"]["id"]


def test_warpdrive_create_body_is_accepted(client):
    body = registration()
    body["data"].update({"id": None, "lid": "tmp-1", "relationships": {}})
    response = client.send("POST", "/api/v2/users", body)
    assert response.status_code == 201
    assert "lid" not in response.json["data"]


def test_read_only_attributes_in_a_create_are_ignored(client):
    body = registration(full_name="Ignored", is_superadmin=True, created_at="2020-01-01T00:00:00Z")
    response = client.send("POST", "/api/v2/users", body)
    assert response.status_code == 201
    assert response.json["data"]["attributes"]["is_superadmin"] is False


def test_full_name_is_derived(client):
    response = client.send(
        "POST", "/api/v2/users", registration(first_name=" Ann ", last_name="Lee")
    )
    assert response.json["data"]["attributes"]["full_name"] == "Ann Lee"


@pytest.mark.parametrize(
    ("first", "last", "full"),
    [(" Ann ", " Lee ", "Ann Lee"), ("Ann", None, "Ann"), (None, "Lee", "Lee"), (" ", "", "")],
)
def test_a_full_name_is_the_parts_given_trimmed(first, last, full):
    assert User(first_name=first, last_name=last).full_name == full


def test_taken_email_is_409_whatever_its_case(client, session, user):
    before = user_count(session)
    response = client.send("POST", "/api/v2/users", registration(email=user.email.upper()))
    assert response.status_code == 409
    assert response.json["errors"][0]["code"] == "email_taken"
    assert response.json["errors"][0]["source"]["pointer"] == "/data/attributes/email"
    assert user_count(session) == before


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"email": "not-an-email"}, "/data/attributes/email"),
        ({"email": "a" * 250 + "@x.io"}, "/data/attributes/email"),
        ({"email": 42}, "/data/attributes/email"),
        ({"password": "short"}, "/data/attributes/password"),
        ({"password": "x" * 129}, "/data/attributes/password"),
        ({"password": ["a list"]}, "/data/attributes/password"),
        ({"first_name": "x" * 101}, "/data/attributes/first_name"),
        ({"username": "no spaces allowed"}, "/data/attributes/username"),
        ({"phone": "call me"}, "/data/attributes/phone"),
        ({"avatar_url": "javascript:alert(1)"}, "/data/attributes/avatar_url"),
        ({"nickname": "unknown attribute"}, "/data/attributes/nickname"),
    ],
)
def test_bad_attributes_are_422_with_a_pointer_and_change_nothing(
    client, session, attributes, pointer
):
    before = user_count(session)
    body = registration(**attributes)
    response = client.send("POST", "/api/v2/users", body)
    assert response.status_code == 422
    assert pointer in [e["source"]["pointer"] for e in response.json["errors"]]
    assert user_count(session) == before


@pytest.mark.parametrize("missing", ["email", "password"])
def test_missing_required_attributes_are_422(client, missing):
    body = registration()
    del body["data"]["attributes"][missing]
    response = client.send("POST", "/api/v2/users", body)
    assert response.status_code == 422
    error = response.json["errors"][0]
    assert error["code"] == "required"
    assert error["source"]["pointer"] == f"/data/attributes/{missing}"


def test_wrong_type_is_409(client, session):
    before = user_count(session)
    body = registration()
    body["data"]["type"] = "organizations"
    response = client.send("POST", "/api/v2/users", body)
    assert response.status_code == 409
    assert response.json["errors"][0]["source"]["pointer"] == "/data/type"
    assert user_count(session) == before


def test_get_user_self_and_superadmin_see_others_do_not(client, login, user, superadmin):
    other = UserFactory()
    url = f"/api/v2/users/{other.id}"
    assert client.get(url, headers=login(other)).status_code == 200
    assert client.get(url, headers=login(superadmin)).status_code == 200
    hidden = client.get(url, headers=login(user))
    assert hidden.status_code == 404
    assert client.get(f"/api/v2/users/{other.id}").status_code == 401


def test_malformed_id_in_a_path_is_404(client, login, user):
    assert client.get("/api/v2/users/not-a-uuid", headers=login(user)).status_code == 404


def test_users_listing_shows_only_what_the_caller_may_see(client, login, user, superadmin):
    UserFactory.create_batch(3)
    mine = client.get("/api/v2/users", headers=login(user)).json
    assert [item["id"] for item in mine["data"]] == [str(user.id)]
    everyone = client.get("/api/v2/users", headers=login(superadmin)).json
    assert everyone["meta"]["pagination"]["total_count"] == 5


class TestProfile:
    def test_get(self, client, login, user):
        response = client.get("/api/v2/profile", headers=login(user))
        assert response.status_code == 200
        assert response.json["data"]["id"] == str(user.id)
        assert response.json["data"]["links"]["self"].endswith(f"/api/v2/users/{user.id}")

    def test_patch_is_partial(self, client, login, user, session):
        last_name = user.last_name
        body = {
            "data": {"type": "users", "attributes": {"first_name": "Zed", "phone": "+1 555 0100"}}
        }
        response = client.send("PATCH", "/api/v2/profile", body, headers=login(user))
        assert response.status_code == 200
        attributes = response.json["data"]["attributes"]
        assert (attributes["first_name"], attributes["phone"]) == ("Zed", "+1 555 0100")
        assert attributes["last_name"] == last_name

    def test_put_is_patch(self, client, login, user):
        body = {"data": {"type": "users", "attributes": {"username": "zed_01"}}}
        response = client.send("PUT", "/api/v2/profile", body, headers=login(user))
        assert response.status_code == 200
        assert response.json["data"]["attributes"]["username"] == "zed_01"

    def test_ember_full_body_with_read_only_members_is_accepted(self, client, login, user):
        current = client.get("/api/v2/profile", headers=login(user)).json["data"]
        current["attributes"]["first_name"] = "Changed"
        body = {"data": current}
        response = client.send("PATCH", "/api/v2/profile", body, headers=login(user))
        assert response.status_code == 200
        assert response.json["data"]["attributes"]["first_name"] == "Changed"

    def test_someone_elses_id_is_409(self, client, login, user, session):
        other = UserFactory()
        body = {"data": {"type": "users", "id": str(other.id), "attributes": {"first_name": "X"}}}
        response = client.send("PATCH", "/api/v2/profile", body, headers=login(user))
        assert response.status_code == 409
        assert response.json["errors"][0]["source"]["pointer"] == "/data/id"
        session.refresh(user)
        assert user.first_name != "X"

    def test_the_email_is_not_changed_through_the_profile(self, client, login, user, session):
        body = {"data": {"type": "users", "attributes": {"email": "new.address@example.com"}}}
        refused = client.send("PATCH", "/api/v2/profile", body, headers=login(user))
        assert refused.status_code == 422
        [error] = refused.json["errors"]
        assert error["code"] == "email_change_required"
        assert error["source"]["pointer"] == "/data/attributes/email"
        assert "/api/v2/email-changes" in error["detail"]
        email = user.email
        session.refresh(user)
        assert user.email == email

    def test_the_address_sent_back_as_it_is_changes_nothing(self, client, login, user):
        body = {"data": {"type": "users", "attributes": {"email": user.email.upper()}}}
        response = client.send("PATCH", "/api/v2/profile", body, headers=login(user))
        assert response.status_code == 200
        assert response.json["data"]["attributes"]["email"] == user.email

    def test_username_is_unique_whatever_its_case(self, client, login, user):
        UserFactory(username="Taken")
        body = {"data": {"type": "users", "attributes": {"username": "taken"}}}
        response = client.send("PATCH", "/api/v2/profile", body, headers=login(user))
        assert response.status_code == 409
        assert response.json["errors"][0]["code"] == "username_taken"

    def test_empty_avatar_url_clears_it(self, client, login, session):
        user = UserFactory(avatar_url="https://cdn.example.com/a.png")
        body = {"data": {"type": "users", "attributes": {"avatar_url": ""}}}
        response = client.send("PATCH", "/api/v2/profile", body, headers=login(user))
        assert response.json["data"]["attributes"]["avatar_url"] is None

    def test_delete_image_clears_the_avatar(self, client, login, session):
        user = UserFactory(avatar_url="https://cdn.example.com/a.png")
        response = client.delete("/api/v2/profile/image", headers=login(user))
        assert response.status_code == 200
        assert response.json["data"]["attributes"]["avatar_url"] is None
        session.refresh(user)
        assert user.avatar_url is None

    def test_password_is_not_changed_through_the_profile(self, client, login, user):
        body = {"data": {"type": "users", "attributes": {"password": "another one!"}}}
        response = client.send("PATCH", "/api/v2/profile", body, headers=login(user))
        assert response.status_code == 422
        assert response.json["errors"][0]["source"]["pointer"] == "/data/attributes/password"

    def test_needs_a_token(self, client):
        response = client.get("/api/v2/profile")
        assert response.status_code == 401
        assert response.json["errors"][0]["code"] == "missing_token"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
