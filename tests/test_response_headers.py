"""Headers that must match the answer: no media type on an answer without a body (204, 304,
OPTIONS, a CORS preflight), and Retry-After only where there is something to retry after
(429), not on a success from a rate-limited endpoint."""

import pytest

from .conftest import TEST_SETTINGS
from .factories import UserFactory

ORIGIN = "https://app.example.com"


def registration(email):
    return {"data": {"type": "users", "attributes": {"email": email, "password": "long enough"}}}


def assert_bodiless(response, status):
    assert response.status_code == status
    assert response.get_data() == b""
    assert "Content-Type" not in response.headers, response.headers


def test_a_delete_204_has_no_content_type(client, api, login, user):
    organization = api.create_organization(user)
    response = client.delete(f"/api/v2/organizations/{organization['id']}", headers=login(user))
    assert_bodiless(response, 204)


def test_a_sign_out_204_has_no_content_type(client, login, user):
    assert_bodiless(client.delete("/api/v2/auth/tokens/current", headers=login(user)), 204)


def test_a_304_has_no_content_type(client, api, login, user):
    organization = api.create_organization(user)
    url = f"/api/v2/organizations/{organization['id']}"
    etag = client.get(url, headers=login(user)).headers["ETag"]
    response = client.get(url, headers={**login(user), "If-None-Match": etag})
    assert_bodiless(response, 304)


@pytest.mark.parametrize("path", ["/api/v2/organizations", "/api/v2/users", "/healthz"])
def test_options_without_origin_has_no_content_type(client, path):
    response = client.options(path)
    assert_bodiless(response, 200)
    assert "GET" in response.headers["Allow"] or "POST" in response.headers["Allow"]


def test_a_cors_preflight_has_no_content_type(make_app):
    browser = make_app(CORS_ORIGINS=ORIGIN).test_client()
    response = browser.options(
        "/api/v2/organizations",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert_bodiless(response, 200)
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_answers_with_a_body_keep_their_media_type(client):
    assert client.get("/api/v2/nothing").headers["Content-Type"] == "application/vnd.api+json"
    assert client.get("/healthz").headers["Content-Type"] == "application/json"


@pytest.fixture
def limited_client(make_app):
    return make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_REGISTRATION="2/minute", RATELIMIT_SIGN_IN="2/minute"
    ).test_client()


def test_successes_on_rate_limited_endpoints_carry_no_retry_after(limited_client, session):
    created = limited_client.send("POST", "/api/v2/users", registration("limited@example.com"))
    assert created.status_code == 201
    assert "Retry-After" not in created.headers, created.headers
    user = UserFactory(email="signs-in@example.com")
    signed_in = limited_client.send(
        "POST",
        "/api/v2/auth/tokens",
        {"data": {"type": "tokens", "attributes": {"email": user.email, "password": "x" * 8}}},
    )
    assert signed_in.status_code in (201, 401)
    assert "Retry-After" not in signed_in.headers


def test_a_real_429_still_has_retry_after(limited_client):
    statuses = [
        limited_client.send("POST", "/api/v2/users", registration(f"n{i}@example.com")).status_code
        for i in range(2)
    ]
    assert statuses == [201, 201]
    refused = limited_client.send("POST", "/api/v2/users", registration("n3@example.com"))
    assert refused.status_code == 429
    assert refused.json["errors"][0]["code"] == "too_many_requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_limits_off_means_no_retry_after_either(client):
    created = client.send("POST", "/api/v2/users", registration("unlimited@example.com"))
    assert created.status_code == 201
    assert "Retry-After" not in created.headers
    assert TEST_SETTINGS["RATELIMIT_ENABLED"] is False
