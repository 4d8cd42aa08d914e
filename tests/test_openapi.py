"""The OpenAPI document: generated from the routes and schemas, valid OpenAPI 3.1, covering
every endpoint; and schemathesis fuzzing every operation as a signed-in user: no 5xx, answers
that conform to the document, errors that are JSON:API error documents."""

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import (
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
)

from jsonapi_server.jsonapi.openapi import spec_of

from .factories import UserFactory
from .jsonapi_validation import validation_errors


def test_the_document_is_valid_openapi_3_1(client):
    response = client.get("/api/v2/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_api_endpoint_is_described(app, client):
    document = client.get("/api/v2/openapi.json").json
    described = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    }
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v2/") or rule.rule.endswith("openapi.json"):
            continue
        if getattr(app.view_functions[rule.endpoint], "outside_jsonapi", False):
            continue  # the HTML docs page (tests/test_docs.py: never an operation)
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<uuid:{argument}>", f"{{{argument}}}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert spec_of(app.view_functions[rule.endpoint], method) is not None, (path, method)
            assert (path, method) in described, (path, method)


def test_collections_document_their_sorts_and_filters(client):
    parameters = client.get("/api/v2/openapi.json").json["paths"][
        "/api/v2/organizations/{organization_id}/invites"
    ]["get"]["parameters"]
    names = {parameter["name"] for parameter in parameters}
    assert {"filter[invite_user_as]", "filter[status]", "filter[updated_since]", "sort"} <= names
    assert {"page[number]", "page[size]", "include", "fields[organization_invites]"} <= names


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
        content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type")
        if isinstance(content_type, list):
            content_type = content_type[0]
        if content_type != "application/vnd.api+json":
            raise AssertionError(f"an error answered as {content_type}")


FUZZ_SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same cases every run: CI stays reproducible
    database=None,
)


def test_fuzzing_every_operation(app, signed_in):
    """Positive and negative cases for every operation, signed in; failures are collected so
    one run reports every operation that broke."""
    schema = schemathesis.openapi.from_wsgi("/api/v2/openapi.json", app)
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        modes = [GenerationMode.POSITIVE]
        definition = operation.definition.raw
        if definition.get("parameters") or "requestBody" in definition:
            modes.append(GenerationMode.NEGATIVE)  # one that takes nothing has no bad input
        for mode in modes:

            @FUZZ_SETTINGS
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                response = case.call(headers=signed_in())
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

            try:
                run()
            except (Exception, BaseExceptionGroup) as error:
                failures.append(f"{operation.label} [{mode.value}]: {str(error)[:800]}")
    assert operations > 80
    assert not failures, "\n\n".join(failures)
