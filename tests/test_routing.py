"""The route helper: nested URLs, flat `/api/v2/<type>/<id>` aliases in both spellings,
PUT answering as PATCH, and flat creation with the parent left to the document."""

import uuid

import pytest
from flask import Blueprint, Flask, jsonify, request

from jsonapi_server.jsonapi.routing import register_resource
from schemas.invites import OrganizationInviteSchema


@pytest.fixture
def routed_client():
    calls = []
    blueprint = Blueprint("t", __name__, url_prefix="/api/v2")

    def view(name):
        def handle(**kwargs):
            calls.append((name, request.method, {k: str(v) for k, v in kwargs.items()}))
            return jsonify(ok=True)

        return handle

    register_resource(
        blueprint,
        OrganizationInviteSchema,
        item_path="/organizations/<uuid:organization_id>/invites/<uuid:id>",
        item_views={"GET": view("show"), "PATCH": view("update"), "DELETE": view("cancel")},
        collection_path="/organizations/<uuid:organization_id>/invites",
        collection_views={"GET": view("list"), "POST": view("create")},
        parent_argument="organization_id",
    )
    app = Flask(__name__)
    app.register_blueprint(blueprint)
    return app.test_client(), calls


ORG, INVITE = uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        (
            "GET",
            f"/api/v2/organizations/{ORG}/invites/{INVITE}",
            ("show", "GET", {"organization_id": str(ORG), "id": str(INVITE)}),
        ),
        (
            "PUT",
            f"/api/v2/organizations/{ORG}/invites/{INVITE}",
            ("update", "PUT", {"organization_id": str(ORG), "id": str(INVITE)}),
        ),
        (
            "GET",
            f"/api/v2/organization-invites/{INVITE}",
            ("show", "GET", {"organization_id": "None", "id": str(INVITE)}),
        ),
        (
            "PATCH",
            f"/api/v2/organization_invites/{INVITE}",
            ("update", "PATCH", {"organization_id": "None", "id": str(INVITE)}),
        ),
        (
            "DELETE",
            f"/api/v2/organization-invites/{INVITE}",
            ("cancel", "DELETE", {"organization_id": "None", "id": str(INVITE)}),
        ),
        ("POST", "/api/v2/organization-invites", ("create", "POST", {"organization_id": "None"})),
        ("POST", "/api/v2/organization_invites", ("create", "POST", {"organization_id": "None"})),
        (
            "GET",
            f"/api/v2/organizations/{ORG}/invites",
            ("list", "GET", {"organization_id": str(ORG)}),
        ),
    ],
)
def test_nested_and_flat_urls_reach_the_same_views(routed_client, method, url, expected):
    client, calls = routed_client
    assert client.open(url, method=method).status_code == 200
    assert calls == [expected]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v2/organization-invites",  # flat URLs serve no collections
        "/api/v2/organization-invites/not-a-uuid",
    ],
)
def test_what_the_helper_does_not_serve(routed_client, url):
    client, _ = routed_client
    assert client.get(url).status_code in (404, 405)
