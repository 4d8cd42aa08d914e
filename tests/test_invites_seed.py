"""The v2 invites seed, to the letter: each of its five requests is replayed and the answer's
shape compared with the seed's, member by member (with API.md's deliberate differences:
`null` for an unset `accepted_at`, no `charset` parameter)."""

import json
import re
from pathlib import Path

import pytest

from .factories import UserFactory

SEED_DIRECTORY = Path(__file__).resolve().parent / "data" / "seed"
SEED_NAMES = (
    "list_response",
    "post_request",
    "post_response",
    "get_response",
    "accept_request",
    "accept_response",
)


def seed_documents() -> list[dict]:
    """The seed's JSON documents, in the order the seed gives them."""
    return [json.loads((SEED_DIRECTORY / f"{name}.json").read_text()) for name in SEED_NAMES]


SEED = seed_documents()
LIST_RESPONSE, POST_REQUEST, POST_RESPONSE, GET_RESPONSE, ACCEPT_REQUEST, ACCEPT_RESPONSE = SEED
NULL_WHEN_UNSET = {"accepted_at"}


def json_type(value) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def assert_same_shape(seed, ours, path=""):
    """Every member of the seed is in ours, with the same JSON type (arrays by their first
    item); ours may add members (links, status, expires_at, ...)."""
    name = path.rsplit("/", 1)[-1]
    if json_type(seed) != json_type(ours):
        assert name in NULL_WHEN_UNSET and ours is None, f"{path}: {seed!r} vs {ours!r}"
        return
    if isinstance(seed, dict):
        for key, value in seed.items():
            assert key in ours, f"{path}/{key} is missing"
            assert_same_shape(value, ours[key], f"{path}/{key}")
    elif isinstance(seed, list) and seed:
        assert ours, f"{path} is empty"
        assert_same_shape(seed[0], ours[0], f"{path}/0")


def test_the_seed_holds_the_five_requests():
    assert len(SEED) == 6
    assert POST_REQUEST["data"]["attributes"]["updated_in_db_at"] == "2021-11-23 14:38:02 UTC"


@pytest.fixture
def org(api, user):
    return api.create_organization(user)


def invites_url(org):
    return f"/api/v2/organizations/{org['id']}/invites"


def test_post_accepts_the_seeds_body_as_written(client, login, user, org):
    response = client.send("POST", invites_url(org), POST_REQUEST, headers=login(user))
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/vnd.api+json"
    assert_same_shape(POST_RESPONSE, response.json)
    data = response.json["data"]
    assert data["type"] == "organization_invites"
    assert data["attributes"]["recipient_email"] == "4oswaldo@steuber-greenfelder.info"
    assert data["attributes"]["invite_user_as"] == "admin"
    assert data["attributes"]["accepted_at"] is None
    assert re.fullmatch(r"[0-9a-f]{64}", data["attributes"]["code"])
    assert data["relationships"]["invited_by_user"]["data"] == {"type": "users", "id": str(user.id)}
    assert data["relationships"]["accepted_by_user"]["data"] is None
    assert data["relationships"]["cancelled_by_user"]["data"] is None


def test_list_matches_the_seed(client, login, user, org):
    body = {
        "data": {
            "type": "organization_invites",
            "attributes": {
                "invite_user_as": "admin",
                "recipient_email": "11dannie.langosh@schaefer.org",
            },
        }
    }
    client.send("POST", invites_url(org), body, headers=login(user))
    response = client.get(
        invites_url(org), headers={**login(user), "Content-Type": "application/vnd.api+json"}
    )
    assert response.status_code == 200
    assert_same_shape(LIST_RESPONSE, response.json)
    assert response.json["meta"] == LIST_RESPONSE["meta"]
    filtered = client.get(invites_url(org) + "?filter[invite_user_as]=admin", headers=login(user))
    assert filtered.json["meta"]["filter"] == {"invite_user_as": "admin"}
    assert len(filtered.json["data"]) == 1
    other = client.get(invites_url(org) + "?filter[invite_user_as]=member", headers=login(user))
    assert other.json["data"] == []


def test_get_matches_the_seed(client, login, user, org):
    created = client.send("POST", invites_url(org), POST_REQUEST, headers=login(user)).json["data"]
    response = client.get(f"{invites_url(org)}/{created['id']}", headers=login(user))
    assert response.status_code == 200
    assert_same_shape(GET_RESPONSE, response.json)


def test_delete_matches_the_seed(client, login, user, org):
    created = client.send("POST", invites_url(org), POST_REQUEST, headers=login(user)).json["data"]
    response = client.delete(f"{invites_url(org)}/{created['id']}", headers=login(user))
    assert response.status_code == 204
    assert response.get_data() == b""


def test_accept_matches_the_seed(api, client, login, user, org):
    recipient = UserFactory(email="7miyoko@feest.com")
    body = {
        "data": {
            "type": "organization_invites",
            "attributes": {"invite_user_as": "admin", "recipient_email": "7miyoko@feest.com"},
        }
    }
    created = client.send("POST", invites_url(org), body, headers=login(user)).json["data"]
    accept = json.loads(json.dumps(ACCEPT_REQUEST))
    accept["data"]["attributes"]["code"] = created["attributes"]["code"]
    response = client.send(
        "PUT", f"{invites_url(org)}/{created['id']}/accept", accept, headers=login(recipient)
    )
    assert response.status_code == 200
    assert_same_shape(ACCEPT_RESPONSE, response.json)
    attributes = response.json["data"]["attributes"]
    assert attributes["accepted_at"] is not None and attributes["status"] == "accepted"
    assert response.json["data"]["relationships"]["accepted_by_user"]["data"]["id"] == str(
        recipient.id
    )
