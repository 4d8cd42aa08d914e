"""Security headers, trusted proxy headers, and production's refusal to run unsafely."""

import pytest

from jsonapi_server import create_app
from jsonapi_server.config import UnsafeSettings

from .conftest import TEST_SETTINGS, JsonApiClient


def test_every_response_carries_the_security_headers(client, login, user):
    for response in (client.get("/healthz"), client.get("/api/v2/nothing")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    authenticated = client.get("/api/v2/profile", headers=login(user))
    assert authenticated.headers["Cache-Control"] == "no-store"


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
        }
    )
    assert app.config["JSONAPI_SERVER_ENV"] == "production"
