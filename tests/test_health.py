"""Liveness and readiness probes."""

from jsonapi_server import create_app

from .conftest import TEST_SETTINGS


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_runs_a_query(client, count_queries):
    with count_queries() as statements:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"
    assert any("SELECT 1" in statement for statement in statements)


def test_readyz_says_503_when_the_database_is_gone():
    app = create_app(
        {
            **TEST_SETTINGS,
            "SQLALCHEMY_DATABASE_URI": "postgresql://postgres@127.0.0.1:1/none",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
        }
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
