"""CORS for browser clients (flask-cors): allowed origins from CORS_ORIGINS."""

import pytest

from jsonapi_server import create_app

from .conftest import TEST_SETTINGS

ORIGIN = "https://app.example.com"


@pytest.fixture
def browser(database_url):
    app = create_app(
        {
            **TEST_SETTINGS,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "CORS_ORIGINS": f"{ORIGIN}, https://other.example.com",
        }
    )
    return app.test_client()  # a plain client: preflights are not JSON:API documents


def test_preflight_allows_authorization_and_content_type(browser):
    response = browser.options(
        "/api/v2/organizations",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_responses_expose_location(browser):
    body = (
        '{"data": {"type": "users", "attributes": '
        '{"email": "cors@example.com", "password": "long enough"}}}'
    )
    response = browser.post(
        "/api/v2/users",
        data=body,
        headers={"Origin": ORIGIN, "Content-Type": "application/vnd.api+json"},
    )
    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Location" in response.headers["Access-Control-Expose-Headers"]


def test_other_origins_get_no_cors_headers(browser):
    response = browser.get("/api/v2/nothing", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_request_without_origin_gets_no_cors_headers_and_an_allowed_one_varies(browser):
    """flask-cors runs only for requests that carry Origin (api.hardening): the others get
    what it gave them, nothing."""
    plain = browser.get("/api/v2/nothing")
    assert not [name for name, _ in plain.headers.items() if name.startswith("Access-Control-")]
    assert "Origin" not in plain.headers.get("Vary", "")
    asked = browser.get("/api/v2/nothing", headers={"Origin": ORIGIN})
    assert asked.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in asked.headers["Vary"]
