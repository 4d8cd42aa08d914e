"""Every failure answers a JSON:API error document: routing errors, bad bodies, oversize
bodies and unexpected exceptions (which reveal nothing but a request id)."""

import logging

import pytest

from jsonapi_server import create_app

from .conftest import TEST_SETTINGS, JsonApiClient


def test_unknown_url_is_404(client):
    response = client.get("/api/v2/nothing-here")
    assert response.status_code == 404
    assert response.json["errors"][0]["code"] == "not_found"


def test_unknown_url_outside_the_api_is_a_jsonapi_404_too(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/vnd.api+json"
    assert response.json["errors"][0]["status"] == "404"


def test_wrong_method_is_405_with_allow(client):
    response = client.open("/api/v2/auth/tokens", method="PATCH")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert response.json["errors"][0]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{bad json", "malformed_json"),
        ('{"data": {"type": "users"', "malformed_json"),
        (b"\xff\xfe not utf-8", "malformed_json"),
        ("[" * 100_000 + "]" * 100_000, "malformed_json"),
        ("", "missing_body"),
        ("[]", "invalid_document"),
        ('"a string"', "invalid_document"),
        ('{"data": null}', "invalid_document"),
        ('{"data": []}', "invalid_document"),
        ('{"data": {"attributes": {}}}', "invalid_document"),
        ('{"data": {"type": 5}}', "invalid_document"),
        ('{"data": {"type": "users", "id": 5}}', "invalid_document"),
        ('{"data": {"type": "users", "attributes": []}}', "invalid_document"),
        ('{"data": {"type": "users", "relationships": []}}', "invalid_document"),
        ('{"data": {"type": "users", "relationships": {"x": 1}}}', "invalid_document"),
        ('{"errors": []}', "missing_data"),
    ],
)
def test_malformed_documents_are_400(client, body, code):
    response = client.send("POST", "/api/v2/users", body)
    assert response.status_code == 400, response.json
    assert response.json["errors"][0]["code"] == code


def test_a_pointer_names_the_malformed_member(client):
    response = client.send("POST", "/api/v2/users", '{"data": {"type": "users", "attributes": 1}}')
    assert response.json["errors"][0]["source"] == {"pointer": "/data/attributes"}


def test_oversize_body_is_413(client):
    body = '{"data": {"type": "users", "attributes": {"first_name": "' + "x" * (1 << 20) + '"}}}'
    response = client.send("POST", "/api/v2/users", body)
    assert response.status_code == 413
    assert response.json["errors"][0]["code"] == "payload_too_large"


def test_huge_strings_within_the_limit_are_422_not_500(client):
    body = {"data": {"type": "users", "attributes": {"email": "a@b.co", "password": "p" * 500_000}}}
    response = client.send("POST", "/api/v2/users", body)
    assert response.status_code == 422


@pytest.fixture
def failing_app(database_url):
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_url})
    app.test_client_class = JsonApiClient

    @app.get("/api/v2/explode")
    def explode():
        raise RuntimeError("secret internals: password=hunter2")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_unexpected_exception_is_500_with_request_id_and_no_trace(failing_app, caplog):
    client = failing_app.test_client()
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v2/explode", headers={"X-Request-ID": "req-123"})
    assert response.status_code == 500
    document = response.json
    assert document["meta"] == {"request_id": "req-123"}
    assert response.headers["X-Request-ID"] == "req-123"
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert "req-123" in caplog.text  # the trace goes to the log, tagged with the id


def test_a_request_id_is_made_when_none_is_given(client):
    response = client.get("/api/v2/nothing-here")
    assert len(response.headers["X-Request-ID"]) == 32


def test_an_unsafe_request_id_is_replaced(client):
    unsafe = "<script>" + "x" * 200
    response = client.get("/api/v2/nothing-here", headers={"X-Request-ID": unsafe})
    assert len(response.headers["X-Request-ID"]) == 32


def test_pointers_escape_member_names_as_rfc_6901_asks(client):
    body = {
        "data": {
            "type": "users",
            "attributes": {"email": "a@b.co", "password": "long enough", "a/b~c": 1},
        }
    }
    response = client.send("POST", "/api/v2/users", body)
    assert response.status_code == 422
    assert response.json["errors"][0]["source"]["pointer"] == "/data/attributes/a~1b~0c"
    bad_relationship = {"data": {"type": "users", "relationships": {"x/y": {}}}}
    response = client.send("POST", "/api/v2/users", bad_relationship)
    assert response.json["errors"][0]["source"]["pointer"] == "/data/relationships/x~1y"
