"""What a security probe found, one regression each: text PostgreSQL cannot store, passwords a
hash cannot tell apart, timestamps past the calendar, HEAD, finds by id, errors without a
`source`, loose booleans and line breaks in names that go into mail headers."""

import pytest
from sqlalchemy import func, select

from jsonapi_server.models import User
from jsonapi_server.services import accounts
from jsonapi_server.services.errors import Invalid, Unauthenticated
from jsonapi_server.times import parse_timestamp

from .factories import PASSWORD, UserFactory


def _error(response) -> dict:
    return response.json["errors"][0]


def create(client, login, user, url, type_, attributes):
    body = {"data": {"type": type_, "attributes": attributes}}
    return client.send("POST", url, body, headers=login(user))


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b"])
def test_text_postgresql_cannot_store_is_422_at_its_attribute(api, client, login, user, text):
    response = create(client, login, user, "/api/v2/organizations", "organizations", {"name": text})
    assert response.status_code == 422
    assert _error(response)["source"] == {"pointer": "/data/attributes/name"}
    org = api.create_organization(user)
    url = f"/api/v2/organizations/{org['id']}/channels"
    response = create(client, login, user, url, "channels", {"name": "ok", "description": text})
    assert response.status_code == 422
    assert _error(response)["source"] == {"pointer": "/data/attributes/description"}


def test_a_member_name_that_cannot_be_written_back_is_422_at_its_object(client, login, user):
    body = '{"data": {"type": "organizations", "attributes": {"name": "x", "\\ud800": 1}}}'
    response = client.send("POST", "/api/v2/organizations", body, headers=login(user))
    assert response.status_code == 422
    assert _error(response)["source"] == {"pointer": "/data/attributes"}


def test_nul_in_a_filter_is_400_naming_it(api, client, login, user):
    org = api.create_organization(user)
    response = client.get(
        f"/api/v2/organizations/{org['id']}/invites?filter[recipient_email]=a%00b",
        headers=login(user),
    )
    assert response.status_code == 400
    assert _error(response)["source"] == {"parameter": "filter[recipient_email]"}


@pytest.mark.parametrize("password", ["long enough\x00", "long enough\ud800"])
def test_registration_refuses_a_password_with_nul_or_a_surrogate(client, session, password):
    body = {
        "data": {"type": "users", "attributes": {"email": "n@example.com", "password": password}}
    }
    response = client.send("POST", "/api/v2/users", body)
    assert response.status_code == 422
    assert _error(response)["source"] == {"pointer": "/data/attributes/password"}
    assert session.scalar(select(func.count()).where(User.email == "n@example.com")) == 0


def test_the_right_password_with_a_trailing_nul_gets_no_tokens(client, user):
    body = {
        "data": {"type": "tokens", "attributes": {"email": user.email, "password": PASSWORD + "\0"}}
    }
    response = client.send("POST", "/api/v2/auth/tokens", body)
    assert response.status_code in (401, 422)
    assert "data" not in response.json


def test_the_account_service_never_matches_or_hashes_a_password_with_nul(app, session):
    user = UserFactory()
    with app.app_context():
        assert accounts.authenticate(user.email, PASSWORD).id == user.id
        # HMAC pads its key with NULs: the hash alone would take this for the password.
        with pytest.raises(Unauthenticated):
            accounts.authenticate(user.email, PASSWORD + "\x00")
        with pytest.raises(Invalid):
            accounts.hash_password("a password\x00")


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01 00:00:01 UTC"]
)
def test_a_timestamp_outside_the_calendar_in_utc_is_a_value_error(text):
    if text.endswith("UTC"):
        assert parse_timestamp(text).year == 1  # the edge itself is fine
        return
    with pytest.raises(ValueError, match="outside"):
        parse_timestamp(text)


def test_filter_by_ids_finds_archived_channels_too(api, client, login, user):
    org = api.create_organization(user)
    archived = api.create_channel(org["id"], user, name="old", archived=True)
    url = f"/api/v2/organizations/{org['id']}/channels?filter[id]={archived['id']}"
    assert [c["id"] for c in client.get(url, headers=login(user)).json["data"]] == [archived["id"]]


@pytest.mark.parametrize(
    "body",
    [
        "",
        "{bad json",
        b"\xff\xfe not utf-8",
        "[" * 10_000 + "]" * 10_000,
        '{"data": ' + "1" * 5_000 + "}",
        '{"data": {"type": "organizations", "attributes": {"name": NaN}}}',
    ],
)
def test_a_document_that_is_not_json_is_400_pointing_at_the_whole(client, login, user, body):
    response = client.send("POST", "/api/v2/organizations", body, headers=login(user))
    assert response.status_code == 400
    assert _error(response)["source"] == {"pointer": ""}


@pytest.mark.parametrize("header", ["garbage", ",", '"unterminated', "W/", '"a" "b"'])
def test_an_if_match_that_is_not_entity_tags_is_400_naming_it(api, client, login, user, header):
    org = api.create_organization(user)
    response = client.delete(
        f"/api/v2/organizations/{org['id']}", headers={**login(user), "If-Match": header}
    )
    assert response.status_code == 400
    assert _error(response)["source"] == {"header": "If-Match"}


@pytest.mark.parametrize("tag", ['"999999999999999"', '"1"', '"not-ours"'])
def test_an_if_match_naming_no_current_version_is_412_naming_it(api, client, login, user, tag):
    org = api.create_organization(user)
    response = client.delete(
        f"/api/v2/organizations/{org['id']}", headers={**login(user), "If-Match": tag}
    )
    assert response.status_code == 412
    assert _error(response)["source"] == {"header": "If-Match"}


@pytest.mark.parametrize("value", ["yes", "true", 1, "on"])
def test_archived_takes_json_booleans_only(api, client, login, user, value):
    org = api.create_organization(user)
    url = f"/api/v2/organizations/{org['id']}/channels"
    response = create(client, login, user, url, "channels", {"name": "c", "archived": value})
    assert response.status_code == 422
    assert _error(response)["source"] == {"pointer": "/data/attributes/archived"}


@pytest.mark.parametrize("name", ["Acme\r\nBcc: victim@example.com", "Acme\nInc", "Acme\u2028"])
def test_a_name_is_one_line(client, login, user, name):
    response = create(client, login, user, "/api/v2/organizations", "organizations", {"name": name})
    assert response.status_code == 422
    assert _error(response)["source"] == {"pointer": "/data/attributes/name"}


def test_a_right_to_left_name_reaches_the_invite_subject_unchanged(
    api, client, login, user, inbox, deliver
):
    name = "Acme \u202eenilno"
    org = api.create_organization(user, name=name)
    url = f"/api/v2/organizations/{org['id']}/invites"
    invite = {"recipient_email": "guest@example.com"}
    assert create(client, login, user, url, "organization_invites", invite).status_code == 201
    assert deliver() == 1
    [message] = inbox
    assert message["Subject"] == f"You are invited to join {name}"
