"""The OpenAPI document as tools use it: Redocly CLI's lint (package.json pins it) passes, and
a client generated from the served document by openapi-python-client signs in, creates an
organization, invites and lists the invites against the real server (gunicorn)."""

import http.client
import importlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from .served import served as serve

ROOT = Path(__file__).resolve().parents[1]
REDOCLY = ROOT / "node_modules" / ".bin" / "redocly"
BIN = Path(sys.executable).parent
# The plain health endpoints refuse nothing, so they have no 4xx answer to list.
EXPECTED_WARNINGS = {
    ("operation-4xx-response", "#/paths/~1healthz/get/responses"),
    ("operation-4xx-response", "#/paths/~1readyz/get/responses"),
}


def test_redocly_lint_finds_no_error(client, tmp_path):
    if not REDOCLY.exists():
        if shutil.which("npx") is None:
            pytest.skip("Node.js (npx) is not installed: Redocly CLI cannot run")
        pytest.fail("Redocly CLI is missing: `make test` installs it (npm ci)")
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(client.get("/api/v2/openapi.json").json))
    environment = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "1"}
    result = subprocess.run(
        [
            *(str(REDOCLY), "lint", "--config", str(ROOT / "redocly.yaml")),
            *("--format", "json", "--max-problems", "1000", str(document)),
        ],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )
    report = json.loads(result.stdout)
    problems = [
        (p["severity"], p["ruleId"], p["location"][0]["pointer"], p["message"])
        for p in report["problems"]
    ]
    assert result.returncode == 0, problems
    assert report["totals"]["errors"] == 0, problems
    assert {(rule, pointer) for _, rule, pointer, _ in problems} == EXPECTED_WARNINGS


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The application under gunicorn on a loopback port, on a database of its own."""
    directory = tmp_path_factory.mktemp("client")
    with serve(directory, workers=1, prefix="jsonapi_server_client") as server:
        yield f"http://127.0.0.1:{server.port}"


@pytest.fixture(scope="module")
def generated_client(served, tmp_path_factory):
    """A client package generated from the document the server serves, imported."""
    directory = tmp_path_factory.mktemp("client")
    connection = http.client.HTTPConnection(*served.removeprefix("http://").split(":"), timeout=30)
    connection.request("GET", "/api/v2/openapi.json")
    answer = connection.getresponse()
    assert answer.status == 200
    (directory / "openapi.json").write_bytes(answer.read())
    connection.close()
    (directory / "config.json").write_text(
        json.dumps({"package_name_override": "jsonapi_client", "post_hooks": []})
    )
    result = subprocess.run(
        [
            *(str(BIN / "openapi-python-client"), "generate", "--path", "openapi.json"),
            *("--config", "config.json", "--meta", "none", "--output-path", "jsonapi_client"),
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout
    sys.path.insert(0, str(directory))
    try:
        yield importlib.import_module("jsonapi_client")
    finally:
        sys.path.remove(str(directory))
        for name in [n for n in sys.modules if n.split(".")[0] == "jsonapi_client"]:
            del sys.modules[name]


def test_a_generated_client_signs_in_creates_an_organization_and_lists_its_invites(
    served, generated_client
):
    client_module = generated_client
    models = importlib.import_module("jsonapi_client.models")
    users = importlib.import_module("jsonapi_client.api.users.create_users")
    sign_in = importlib.import_module("jsonapi_client.api.tokens.create_auth_tokens")
    organizations = importlib.import_module("jsonapi_client.api.organizations.create_organizations")
    invite = importlib.import_module(
        "jsonapi_client.api.organization_invites.create_organizations_invites"
    )
    listing = importlib.import_module(
        "jsonapi_client.api.organization_invites.list_organizations_invites"
    )

    anonymous = client_module.Client(base_url=served)
    credentials = {"email": "ann@example.com", "password": "long enough"}
    registered = users.sync_detailed(
        client=anonymous,
        body=models.CreateUsersBody.from_dict(
            {"data": {"type": "users", "attributes": credentials}}
        ),
    )
    assert registered.status_code == 201, registered.content

    signed_in = sign_in.sync(
        client=anonymous,
        body=models.CreateAuthTokensBody.from_dict(
            {"data": {"type": "tokens", "attributes": credentials}}
        ),
    )
    assert isinstance(signed_in, models.TokensDocument), signed_in
    token = signed_in.data.attributes.access_token
    assert signed_in.data.attributes.token_type == "Bearer"

    caller = client_module.AuthenticatedClient(base_url=served, token=token)
    refused = organizations.sync_detailed(
        client=anonymous,
        body=models.CreateOrganizationsBody.from_dict(
            {"data": {"type": "organizations", "attributes": {"name": "Acme"}}}
        ),
    )
    assert refused.status_code == 401
    assert isinstance(refused.parsed, models.ErrorDocument)
    assert refused.parsed.errors[0].code == "missing_token"

    created = organizations.sync(
        client=caller,
        body=models.CreateOrganizationsBody.from_dict(
            {"data": {"type": "organizations", "attributes": {"name": "Acme"}}}
        ),
    )
    assert isinstance(created, models.OrganizationsDocument), created
    assert created.data.attributes.name == "Acme"
    organization_id = uuid.UUID(created.data.id)  # the client types path ids as UUIDs

    invited = invite.sync(
        organization_id,
        client=caller,
        body=models.CreateOrganizationsInvitesBody.from_dict(
            {
                "data": {
                    "type": "organization_invites",
                    "attributes": {"recipient_email": "bob@example.com"},
                }
            }
        ),
    )
    assert isinstance(invited, models.OrganizationInvitesDocument), invited

    listed = listing.sync(organization_id, client=caller)
    assert isinstance(listed, models.OrganizationInvitesCollection), listed
    (only,) = listed.data
    assert only.id == invited.data.id
    assert only.attributes.recipient_email == "bob@example.com"
    assert only.attributes.status == "pending"
    assert only.attributes.accepted_at is None  # nullable, and null
    assert len(only.attributes.code) == 64
