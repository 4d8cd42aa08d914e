"""The OpenAPI document: generated from the routes and schemas, valid OpenAPI 3.1, covering
every endpoint; and schemathesis fuzzing every operation, positive and negative, with HEAD
beside every GET, as a signed-in user: no 5xx, answers that conform to the document, errors
that are JSON:API error documents."""

import json
import uuid
from types import SimpleNamespace

import pytest
import schemathesis
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import (
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
)

from jsonapi_server.jsonapi.openapi import build_openapi
from jsonapi_server.jsonapi.operations import spec_of

from .factories import UserFactory
from .jsonapi_validation import validation_errors


def test_the_document_is_valid_openapi_3_1(client):
    response = client.get("/api/v2/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_api_endpoint_is_described(app, client):
    """Every API rule is described, at its own path or, for an alias spelled with `_`, at
    its dasherized form."""
    document = client.get("/api/v2/openapi.json").json
    described = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    }
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v2/"):
            continue
        if getattr(app.view_functions[rule.endpoint], "outside_jsonapi", False):
            continue  # the HTML docs page (tests/test_docs.py: never an operation)
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<uuid:{argument}>", f"{{{argument}}}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert spec_of(app.view_functions[rule.endpoint], method) is not None, (path, method)
            canonical = "/".join(
                part if "{" in part else part.replace("_", "-") for part in path.split("/")
            )
            assert (path, method) in described or (
                canonical.rstrip("/"),
                method,
            ) in described, (path, method)


def test_collections_document_their_sorts_and_filters(client):
    parameters = client.get("/api/v2/openapi.json").json["paths"][
        "/api/v2/organizations/{organization_id}/invites"
    ]["get"]["parameters"]
    names = {parameter["name"] for parameter in parameters}
    assert {"filter[invite_user_as]", "filter[status]", "filter[updated_since]", "sort"} <= names
    assert {"page[number]", "page[size]", "include", "fields[organization_invites]"} <= names


@pytest.fixture(scope="module")
def document(app):
    with app.test_client() as client:
        return client.get("/api/v2/openapi.json").json


def operations(document):
    for path, item in document["paths"].items():
        for method, described in item.items():
            yield path, method.upper(), described


def by_id(document) -> dict:
    return {described["operationId"]: described for _, _, described in operations(document)}


def test_every_operation_has_a_unique_operation_id(document):
    ids = [described.get("operationId") for _, _, described in operations(document)]
    assert all(ids) and len(ids) == len(set(ids)) > 80
    paths = {
        described["operationId"]: (method, path) for path, method, described in operations(document)
    }
    assert paths["list_organizations_invites"] == (
        "GET",
        "/api/v2/organizations/{organization_id}/invites",
    )
    assert paths["create_auth_tokens"] == ("POST", "/api/v2/auth/tokens")
    assert paths["update_organizations"] == ("PATCH", "/api/v2/organizations/{id}")
    assert paths["update_organizations_put"] == ("PUT", "/api/v2/organizations/{id}")
    assert paths["show_organization_invites"] == ("GET", "/api/v2/organization-invites/{id}")
    assert paths["action_organizations_invites_accept_put"][0] == "PUT"
    assert paths["relationship_organizations_channels_members"][0] == "GET"
    assert paths["change_members_organizations_channels_members_delete"][0] == "DELETE"


def test_operation_ids_do_not_depend_on_the_order_routes_were_registered(app, document):
    rules = list(app.url_map.iter_rules())
    reordered = SimpleNamespace(iter_rules=lambda: reversed(rules))
    shuffled = build_openapi(SimpleNamespace(url_map=reordered, view_functions=app.view_functions))
    ids = {(p, m): d["operationId"] for p, m, d in operations(document)}
    assert {(p, m): d["operationId"] for p, m, d in operations(shuffled)} == ids


def test_the_server_is_relative_so_the_document_works_on_any_host(document):
    assert document["servers"] == [{"url": "/"}]
    assert all(path.startswith("/") for path in document["paths"])


PUBLIC = {
    "create_users",  # registration
    "create_auth_tokens",  # sign in
    "create_invite_verifications",
    "show_healthz",
    "show_readyz",
    "show_openapi_json",
    "entry",  # the entry document at /api/v2
    "create_password_resets",  # a forgotten password: no token to send
    "action_password_resets_confirm",
    "action_password_resets_confirm_put",
}


def test_bearer_tokens_are_required_except_on_public_operations(document, client):
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert document["security"] == [{"bearer": []}]
    public = {d["operationId"] for _, _, d in operations(document) if d.get("security") == []}
    assert public == PUBLIC
    for path, method, described in operations(document):
        assert described.get("security") in (None, []), (method, path)
        if described["operationId"] in PUBLIC:
            continue
        # Every operation that inherits the requirement refuses a request without a token.
        concrete = path.replace("{organization_id}", str(uuid.uuid4())).replace(
            "{id}", str(uuid.uuid4())
        )
        answer = client.open(concrete, method=method)
        assert answer.status_code == 401, (method, path, answer.status_code)
        assert "401" in described["responses"]


def errors_of(document, operation_id) -> set[int]:
    return {int(s) for s in by_id(document)[operation_id]["responses"] if s.startswith("4")}


def test_every_operation_lists_its_4xx_answers_as_error_documents(document):
    for path, method, described in operations(document):
        errors = [s for s in described["responses"] if s.startswith("4")]
        if path in ("/healthz", "/readyz"):
            assert not errors  # they refuse nothing
            continue
        assert errors, (method, path)
        for status in errors:
            (content,) = described["responses"][status]["content"].values()
            assert content["schema"] == {"$ref": "#/components/schemas/error_document"}
        if described.get("security") == [] and described["operationId"] != "create_auth_tokens":
            assert "401" not in described["responses"], (method, path)
        if "{" in path:
            assert "404" in described["responses"], (method, path)
        if "requestBody" in described:
            assert {"409", "415", "422"} <= set(described["responses"]), (method, path)
    assert errors_of(document, "list_users") == {400, 401}
    assert errors_of(document, "show_users") == {400, 401, 404}
    assert errors_of(document, "delete_auth_tokens_current") == {401}
    assert errors_of(document, "create_organizations_channels") == {
        400,
        401,
        403,
        404,
        409,
        415,
        422,
    }
    assert 412 in errors_of(document, "update_organizations_invites")
    assert 412 not in errors_of(document, "update_profile")  # users carry no version


def test_429_and_410_only_where_the_code_gives_them(document):
    limited = {
        "create_auth_tokens",
        "create_users",
        "create_invite_verifications",
        "action_organizations_invites_accept",
        "action_organizations_invites_accept_put",
        "create_organizations_invites",
        "create_organization_invites",  # the flat create shares the view and its limit
        "create_organizations_invite_batches",
        # not a rate limit: an invite is sent at most once a minute
        "action_organizations_invites_resend",
        "action_organizations_invites_resend_put",
        # account changes: each mails an address or guesses a secret
        "create_email_changes",
        "create_password_changes",
        "create_password_resets",
        "action_password_resets_confirm",
        "action_password_resets_confirm_put",
    }
    assert {i for i in by_id(document) if 429 in errors_of(document, i)} == limited
    gone = {
        "create_users",  # with an invite_code
        "create_invite_verifications",
        "action_organizations_invites_accept",
        "action_organizations_invites_accept_put",
        # an expired or used mailed code
        "action_email_changes_confirm",
        "action_email_changes_confirm_put",
        "action_password_resets_confirm",
        "action_password_resets_confirm_put",
    }
    assert {i for i in by_id(document) if 410 in errors_of(document, i)} == gone


def create_attributes(document, operation_id) -> dict:
    body = by_id(document)[operation_id]["requestBody"]["content"]["application/vnd.api+json"]
    return body["schema"]["properties"]["data"]["properties"]["attributes"]


def test_required_attributes_are_required_and_only_nullable_ones_nullable(document):
    schemas = document["components"]["schemas"]
    organization = schemas["organizations"]["properties"]["attributes"]
    # A create requires them; an answer may leave any out (a sparse fieldset).
    assert "name" in create_attributes(document, "create_organizations")["required"]
    assert "required" not in organization
    assert organization["properties"]["name"]["type"] == "string"
    assert organization["properties"]["description"]["type"] == ["string", "null"]
    assert organization["properties"]["updated_in_db_at"]["type"] == "string"
    assert organization["properties"]["members_count"]["type"] == "integer"
    invite = schemas["organization_invites"]["properties"]["attributes"]
    assert create_attributes(document, "create_organizations_invites")["required"] == [
        "recipient_email"
    ]
    assert not any(
        "required" in schema["properties"]["attributes"]
        for schema in schemas.values()
        if "attributes" in schema.get("properties", {}) and "data" not in schema["properties"]
    )
    assert invite["properties"]["accepted_at"]["type"] == ["string", "null"]
    assert invite["properties"]["cancelled_at"]["type"] == ["string", "null"]
    assert invite["properties"]["expires_at"]["type"] == "string"
    assert invite["properties"]["code"]["type"] == "string"
    channel = schemas["channels"]["properties"]["attributes"]["properties"]
    assert channel["archived_at"]["type"] == ["string", "null"]
    assert channel["archived"]["type"] == "boolean"


def test_a_sparse_fieldset_answer_conforms_to_the_document(client, login, document, session):
    """`fields[users]` may leave out what a create requires (the email): the answer still
    conforms to the resource's schema in the document."""
    user = UserFactory()
    answer = client.get("/api/v2/profile?fields[users]=avatar_url", headers=login(user))
    assert answer.status_code == 200
    assert "email" not in answer.json["data"]["attributes"]
    users = {"$ref": "#/components/schemas/users", "components": document["components"]}
    Draft202012Validator(users).validate(answer.json["data"])


def test_aliases_are_listed_once_in_their_dasherized_form(document, client):
    paths = set(document["paths"])
    assert "/api/v2/invite-verifications" in paths
    assert "/api/v2/deleted-records" in paths
    assert "/api/v2/organization-invites/{id}" in paths
    assert not {"/api/v2/invite_verifications", "/api/v2/deleted_records"} & paths
    assert not any(p.startswith("/api/v2/organization_invites") for p in paths)
    # The aliases still answer; only the document leaves them out.
    assert client.get("/api/v2/deleted_records").status_code == 401
    # Relationship names keep their spelling: no dashed rule serves them.
    assert "/api/v2/organizations/{organization_id}/invites/{id}/accepted_by_user" in paths


@pytest.fixture
def signed_in(api, login, session):
    """Fresh credentials for each call (a fuzzed sign-out must not silence the rest) of a user
    who owns an organization."""
    owner = UserFactory()
    api.create_organization(owner, name="Fuzzed")
    return lambda: login(owner)


@schemathesis.check
def jsonapi_error_documents(ctx, response, case):
    """Every error answer is a JSON:API error document (and never a server error)."""
    if response.status_code >= 500:
        raise AssertionError(f"server error {response.status_code}")
    if response.status_code >= 400:
        document = json.loads(response.content)
        problems = validation_errors(document)
        if problems or "errors" not in document:
            raise AssertionError(f"not a JSON:API error document: {problems}")
        (content_type,) = response.headers["content-type"]  # lowercase names, lists of values
        if content_type != "application/vnd.api+json":
            raise AssertionError(f"an error answered as {content_type}")


def fuzz_settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,  # the same cases every run: CI stays reproducible
        database=None,
    )


def can_be_made_invalid(operation) -> bool:
    """Negative cases need something to break: a parameter (the operation's or its path's)
    or a body."""
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody") or "{" in operation.path)


class HeadClient(FlaskClient):
    """Sends the request it is given as HEAD: the same case, headers left out as schemathesis
    leaves them out for the GET."""

    def open(self, *args, **kwargs):
        kwargs["method"] = "HEAD"
        return super().open(*args, **kwargs)


def assert_head_matches_get(app, case, headers, get_response):
    """HEAD answers as GET does (status, media type, length), without a body."""
    head = case.call(headers=headers, session=HeadClient(app, app.response_class))
    assert head.status_code == get_response.status_code, (head.status_code, case.path)
    assert head.content == b"", case.path
    for name in ("content-type", "content-length"):
        assert head.headers.get(name) == get_response.headers.get(name), name


def fuzz_every_operation(app, signed_in, examples: int) -> dict:
    """Positive and negative cases for every operation, signed in, and HEAD beside every GET;
    failures are collected so one run reports every operation that broke."""
    schema = schemathesis.openapi.from_wsgi("/api/v2/openapi.json", app)
    failures: list[str] = []
    cases: dict[tuple[str, str], int] = {}
    heads = 0
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        modes = [GenerationMode.POSITIVE]
        if can_be_made_invalid(operation):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            key = (operation.label, mode.value)
            cases[key] = 0

            @fuzz_settings(examples)
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                nonlocal heads
                headers = signed_in()
                response = case.call(headers=headers)
                cases[key] += 1  # noqa: B023 (run() is called before the loop moves on)
                case.validate_response(
                    response,
                    additional_checks=[jsonapi_error_documents],
                    # Generated values are not all meaningful (an include path, a filter
                    # value); JSON:API lets a server ignore unknown implementation-specific
                    # parameters (legal member names that are not all a-z); and the
                    # credentials are ours, so auth probing does not apply.
                    excluded_checks=[
                        positive_data_acceptance,
                        negative_data_rejection,
                        ignored_auth,
                    ],
                )
                if case.method == "GET":
                    assert_head_matches_get(app, case, headers, response)
                    heads += 1

            try:
                run()
            except (Exception, BaseExceptionGroup) as error:
                failures.append(f"{operation.label} [{mode.value}]: {str(error)[:800]}")
    assert not failures, "\n\n".join(failures)
    assert operations > 80
    # Every operation ran, in every mode it allows: none was skipped by a generation failure.
    assert all(count > 0 for count in cases.values()), [k for k, n in cases.items() if not n]
    negative = {label for label, mode in cases if mode == "negative"}
    assert len(negative) >= operations - 5, operations - len(negative)
    assert heads > 0
    return {"operations": operations, "cases": sum(cases.values()), "heads": heads}


def test_fuzzing_every_operation(app, signed_in):
    fuzz_every_operation(app, signed_in, examples=10)


@pytest.mark.long
def test_fuzzing_every_operation_at_length(app, signed_in):
    """The longer run of the same fuzzing: 200 examples per operation and mode."""
    figures = fuzz_every_operation(app, signed_in, examples=200)
    assert figures["cases"] > 100 * figures["operations"]
