"""Security headers, trusted proxy headers, and production's refusal to run unsafely."""

import pytest

from jsonapi_server import create_app
from jsonapi_server.config import UnsafeSettings

from .conftest import TEST_SETTINGS, JsonApiClient
from .factories import PASSWORD


def test_every_response_carries_the_security_headers(client, login, user):
    for response in (client.get("/healthz"), client.get("/api/v2/nothing")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    authenticated = client.get("/api/v2/profile", headers=login(user))
    assert_no_store(authenticated)


def test_no_answer_may_be_framed(client, login, user):
    answers = {
        "a JSON:API document": client.get("/api/v2/profile", headers=login(user)),
        "an error document": client.get("/api/v2/nothing"),
        "the health check": client.get("/healthz"),
    }
    for name, response in answers.items():
        assert response.headers["X-Frame-Options"] == "DENY", name
        assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'", name


def test_a_page_with_a_policy_of_its_own_keeps_it(make_app):
    app = make_app()
    page_policy = "default-src 'self'; frame-ancestors 'self'"

    @app.get("/page-with-its-own-policy")
    def page():
        return "<p>hello</p>", 200, {"Content-Security-Policy": page_policy}

    response = app.test_client().get("/page-with-its-own-policy")
    assert response.headers["Content-Security-Policy"] == page_policy
    assert "X-Frame-Options" not in response.headers


def sign_in_body(email, password=PASSWORD):
    return {"data": {"type": "tokens", "attributes": {"email": email, "password": password}}}


def assert_no_store(response):
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_every_answer_carrying_a_token_is_no_store(client, user):
    signed_in = client.send("POST", "/api/v2/auth/tokens", sign_in_body(user.email))
    assert signed_in.status_code == 201
    assert_no_store(signed_in)
    refresh_token = signed_in.json["data"]["attributes"]["refresh_token"]
    refreshed = client.post(
        "/api/v2/auth/tokens/refresh", headers={"Authorization": f"Bearer {refresh_token}"}
    )
    assert refreshed.status_code == 201
    assert_no_store(refreshed)
    registration = {
        "data": {"type": "users", "attributes": {"email": "fresh@example.com", "password": "x" * 8}}
    }
    registered = client.send("POST", "/api/v2/users", registration)
    assert registered.status_code == 201 and registered.json["meta"]["access_token"]
    assert_no_store(registered)
    refused = client.send("POST", "/api/v2/auth/tokens", sign_in_body(user.email, "wrong"))
    assert_no_store(refused)  # it answered a request carrying a password


def test_public_answers_without_secrets_may_be_cached(client):
    assert "Cache-Control" not in client.get("/healthz").headers


def test_forwarded_scheme_and_host_reach_links_when_trusted(database_url, user, login):
    app = create_app(
        {
            **TEST_SETTINGS,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PROXY_FIX_X_PROTO": 1,
            "PROXY_FIX_X_HOST": 1,
        }
    )
    app.test_client_class = JsonApiClient
    response = app.test_client().get(
        "/api/v2/nothing",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.com"},
    )
    assert response.json["links"]["self"] == "https://api.example.com/api/v2/nothing"


def test_untrusted_forwarded_headers_are_ignored(client):
    response = client.get(
        "/api/v2/nothing",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"},
    )
    assert response.json["links"]["self"] == "http://localhost/api/v2/nothing"


def test_production_names_everything_missing_at_once(monkeypatch):
    for variable in ("JWT_SECRET_KEY", "DATABASE_URL", "MAIL_SERVER"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(UnsafeSettings) as refused:
        create_app({"JSONAPI_SERVER_ENV": "production", "JWT_SECRET_KEY": "short"})
    message = str(refused.value)
    assert "JWT_SECRET_KEY" in message and "DATABASE_URL" in message and "MAIL_SERVER" in message
    assert "short" not in message


def test_production_starts_with_real_settings(database_url):
    app = create_app(
        {
            "JSONAPI_SERVER_ENV": "production",
            "JWT_SECRET_KEY": "x" * 32,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MAIL_SERVER": "127.0.0.1",
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
            "PUBLIC_BASE_URL": "https://api.example.com",
        }
    )
    assert app.config["JSONAPI_SERVER_ENV"] == "production"
