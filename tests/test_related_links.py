"""Every to-one relationship lets a client fetch what it points at: a `links.related` below the
resource's own URL, or, for a resource without relationship endpoints (tokens, tombstones,
account changes), the related resource's own URL, which answers the caller for their own user.
The few without links are named here, and docs/api.md says why."""

import re
import uuid
from pathlib import Path

import sqlalchemy as sa

import schemas
from jsonapi_server.jsonapi.schema import ResourceSchema
from jsonapi_server.models import DeletedRecord

from .factories import PASSWORD

ROOT = Path(__file__).resolve().parents[1]
# To-one relationships written without links; docs/api.md gives the reason in their sections.
WITHOUT_LINKS = {("invite_verifications", "invite"), ("invite_verifications", "organization")}


def operation(app, path: str):
    """The OpenAPI description of the view that answers GET `path`."""
    endpoint, _arguments = app.url_map.bind("localhost").match(path, method="GET")
    view = app.view_functions[endpoint]
    return getattr(view, "views", {}).get("GET", view).openapi


def filled(template: str) -> str:
    return re.sub(r"\{\w+\}", lambda _match: str(uuid.uuid4()), template)


def test_every_to_one_relationship_links_an_endpoint_of_what_it_points_at(app):
    assert schemas.__all__  # importing the package registered every type
    unlinked = set()
    for type_, schema in ResourceSchema.registry.items():
        if type_.startswith("test_"):
            continue
        for name, field in schema.relationship_fields().items():
            if field.many:
                continue
            if field.related_path:
                spec = operation(app, filled(field.related_path))
                assert (spec.kind, spec.schema.type_name()) == ("show", field.type_), name
            elif field.with_links and schema.opts.self_path:
                spec = operation(app, filled(schema.opts.self_path) + f"/{name}")
                assert (spec.kind, spec.schema.type_name()) == ("related", field.type_), name
            else:
                unlinked.add((type_, name))
    assert unlinked == WITHOUT_LINKS
    api_document = (ROOT / "docs" / "api.md").read_text()
    for type_, name in WITHOUT_LINKS:
        section = api_document.split(f"### `{type_}`", 1)[1].split("\n### ", 1)[0]
        assert f"`{name}`" in section and "no links" in section, type_


def fetch_related(client, relationship: dict, headers: dict, user) -> None:
    assert relationship["data"] == {"type": "users", "id": str(user.id)}
    assert relationship["links"] == {"related": f"http://localhost/api/v2/users/{user.id}"}
    fetched = client.get(relationship["links"]["related"], headers=headers)
    assert fetched.status_code == 200
    assert fetched.json["data"]["id"] == str(user.id)


def sign_in(client, user) -> dict:
    body = {"data": {"type": "tokens", "attributes": {"email": user.email, "password": PASSWORD}}}
    signed_in = client.send("POST", "/api/v2/auth/tokens", body)
    assert signed_in.status_code == 201
    return signed_in.json["data"]


def test_a_token_links_its_user(client, user):
    token = sign_in(client, user)
    headers = {"Authorization": f"Bearer {token['attributes']['access_token']}"}
    fetch_related(client, token["relationships"]["user"], headers, user)


def test_account_changes_link_their_user(client, user):
    token = sign_in(client, user)  # a password change keeps the session that made it
    headers = {"Authorization": f"Bearer {token['attributes']['access_token']}"}
    attributes = {"email": "elsewhere@example.com", "current_password": PASSWORD}
    email_change = client.send(
        "POST",
        "/api/v2/email-changes",
        {"data": {"type": "email_changes", "attributes": attributes}},
        headers=headers,
    )
    assert email_change.status_code == 201
    fetch_related(client, email_change.json["data"]["relationships"]["user"], headers, user)
    attributes = {"current_password": PASSWORD, "password": "another long password"}
    password_change = client.send(
        "POST",
        "/api/v2/password-changes",
        {"data": {"type": "password_changes", "attributes": attributes}},
        headers=headers,
    )
    assert password_change.status_code == 201
    fetch_related(client, password_change.json["data"]["relationships"]["user"], headers, user)


def test_a_tombstone_links_who_deleted_it_and_nothing_once_they_are_unknown(
    api, client, login, user, session
):
    organization = api.create_organization(user)
    channel = api.create_channel(organization["id"], user, name="doomed")
    base = f"/api/v2/organizations/{organization['id']}"
    assert client.delete(f"{base}/channels/{channel['id']}", headers=login(user)).status_code == 204
    headers = login(user)
    [tombstone] = client.get("/api/v2/deleted-records", headers=headers).json["data"]
    fetch_related(client, tombstone["relationships"]["deleted_by"], headers, user)
    session.execute(sa.update(DeletedRecord).values(deleted_by_id=None))
    session.commit()
    [tombstone] = client.get("/api/v2/deleted-records", headers=headers).json["data"]
    assert tombstone["relationships"]["deleted_by"] == {"data": None}
