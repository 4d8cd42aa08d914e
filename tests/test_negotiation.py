"""Content negotiation (JSON:API 1.1): 415 for foreign request media types, 406 only when no
JSON:API instance in Accept is usable, the media type on every body, `Vary: Accept`."""

import pytest
from flask import Response

from jsonapi_server.jsonapi.media import parse_media_range
from jsonapi_server.jsonapi.protocol import add_vary

BODY = '{"data": {"type": "tokens", "attributes": {"email": "a@b.co", "password": "pw"}}}'


def post(client, content_type, accept=None):
    headers = {"Content-Type": content_type}
    if accept is not None:
        headers["Accept"] = accept
    return client.open("/api/v2/auth/tokens", method="POST", data=BODY, headers=headers)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/vnd.api+json; charset=utf-8",
        "application/vnd.api+json;version=1",
        'application/vnd.api+json; ext="https://jsonapi.org/ext/atomic"',
        "application/vnd.api+json;ext=https://jsonapi.org/ext/atomic",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
    ],
)
def test_foreign_request_media_types_are_415(client, content_type):
    response = post(client, content_type)
    assert response.status_code == 415
    assert response.json["errors"][0]["source"] == {"header": "Content-Type"}


@pytest.mark.parametrize(
    "content_type",
    [
        "application/vnd.api+json",
        'application/vnd.api+json; profile="https://example.com/profiles/x"',
        "application/vnd.api+json;profile=https://example.com/profiles/x",
        "application/json",
        "application/json; charset=utf-8",
    ],
)
def test_acceptable_request_media_types_reach_the_view(client, content_type):
    assert post(client, content_type).status_code == 401  # unknown account: the view answered


def test_a_body_without_content_type_is_415(client):
    response = client.open("/api/v2/auth/tokens", method="POST", data=BODY)
    assert response.status_code == 415


@pytest.mark.parametrize(
    "accept",
    [
        "application/vnd.api+json; charset=utf-8",
        'application/vnd.api+json; ext="https://jsonapi.org/ext/atomic"',
        "application/vnd.api+json;ext=https://jsonapi.org/ext/atomic",
        "application/vnd.api+json; charset=utf-8, */*",
        "application/vnd.api+json; charset=utf-8, application/json",
        "application/vnd.api+json; version=1, application/vnd.api+json; ext=x",
    ],
)
def test_accept_with_only_unusable_jsonapi_instances_is_406(client, accept):
    response = post(client, "application/vnd.api+json", accept)
    assert response.status_code == 406
    assert response.json["errors"][0]["source"] == {"header": "Accept"}
    assert response.headers["Content-Type"] == "application/vnd.api+json"


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "*/*",
        "application/json",
        "text/html",
        "application/vnd.api+json",
        "application/vnd.api+json; charset=utf-8, application/vnd.api+json",
        'application/vnd.api+json; profile="https://example.com/p"',
        "application/vnd.api+json;q=0.9",
    ],
)
def test_accept_that_allows_plain_jsonapi_is_served(client, accept):
    assert post(client, "application/vnd.api+json", accept).status_code == 401


def test_each_accept_header_keeps_its_own_answer_when_repeated(client):
    # The answer is decided once per header text and remembered (media._can_answer).
    unusable, usable = "application/vnd.api+json; charset=utf-8", "application/vnd.api+json"
    statuses = [
        post(client, "application/vnd.api+json", accept).status_code
        for accept in (unusable, usable, unusable, usable)
    ]
    assert statuses == [406, 401, 406, 401]


def test_responses_carry_the_media_type_without_charset_and_vary(client):
    response = client.get("/api/v2/no-such-thing")
    assert response.headers["Content-Type"] == "application/vnd.api+json"
    assert "Accept" in response.headers["Vary"]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (None, "Accept"),
        ("Origin", "Origin, Accept"),
        ("Origin, accept", "Origin, accept"),
        ("Accept-Language", "Accept-Language, Accept"),
    ],
)
def test_vary_names_accept_once_beside_what_others_vary_on(before, after):
    response = Response(headers={"Vary": before} if before else {})
    assert add_vary(response).headers["Vary"] == after


def test_cors_and_negotiation_both_vary(make_app):
    app = make_app(CORS_ORIGINS="https://app.example.com, https://other.example.com")
    response = app.test_client().get(
        "/api/v2/no-such-thing", headers={"Origin": "https://app.example.com"}
    )
    values = [value.strip() for value in response.headers["Vary"].split(",")]
    assert sorted(values) == ["Accept", "Origin"]


@pytest.mark.parametrize(
    ("text", "parameters"),
    [
        ('application/vnd.api+json; ext="a b"', {"ext": "a b"}),
        ("application/vnd.api+json;ext=a", {"ext": "a"}),
        ('application/vnd.api+json; profile="x;y, z"', {"profile": "x;y, z"}),
        ("application/vnd.api+json; q=0.5; ext=a", {}),
    ],
)
def test_media_parameters_are_read_quoted_or_not(text, parameters):
    assert parse_media_range(text).parameters == parameters
