"""The Host a request names reaches no link, Location or error unless it is trusted: links are
on PUBLIC_BASE_URL, a Host that neither it nor TRUSTED_HOSTS names is refused (health probes
aside), and production does not start without one of them. Development, with neither, follows
the Host as it always has."""

import http.client
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from jsonapi_server.config import load_settings, public_base_url, settings_problems

from .conftest import TEST_SETTINGS
from .served import free_port, served

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PUBLIC = "https://api.example.com"
REFUSED = "evil.example"


def registration(email: str) -> dict:
    return {"data": {"type": "users", "attributes": {"email": email, "password": "long enough"}}}


def assert_refused(response, name: str = ""):
    assert response.status_code == 400, name
    [error] = response.json["errors"]
    assert (error["code"], error["source"]) == ("untrusted_host", {"header": "Host"}), name
    assert REFUSED not in response.get_data(as_text=True), name
    assert not any(REFUSED in value for _header, value in response.headers.items()), name


@pytest.fixture
def public_app(make_app):
    """On PUBLIC_BASE_URL, answering another name too (as behind an internal alias)."""
    return make_app(PUBLIC_BASE_URL=PUBLIC + "/", ALLOWED_HOSTS=("api-internal.example.net",))


def test_links_and_location_name_the_public_base_url_whatever_trusted_host_was_used(public_app):
    client = public_app.test_client()
    created = client.send(
        "POST",
        "/api/v2/users",
        registration("alias@example.com"),
        base_url="http://api-internal.example.net:8080",
    )
    assert created.status_code == 201
    assert created.json["data"]["links"]["self"].startswith(f"{PUBLIC}/api/v2/users/")
    assert created.headers["Location"] == created.json["data"]["links"]["self"]
    assert created.json["links"]["self"] == f"{PUBLIC}/api/v2/users"
    token = created.json["meta"]["access_token"]
    listing = client.get(
        "/api/v2/users?page[size]=1",
        headers={"Authorization": f"Bearer {token}"},
        base_url="http://api.example.com",
    )
    assert listing.status_code == 200
    links = [link for link in listing.json["links"].values() if link]
    assert len(links) >= 3 and all(link.startswith(f"{PUBLIC}/api/v2/users?") for link in links)
    entry = client.get("/api/v2", base_url="http://api-internal.example.net")
    assert entry.json["links"]["describedby"] == f"{PUBLIC}/api/v2/openapi.json"


def test_a_host_not_trusted_is_refused_and_not_written_back(public_app):
    client = public_app.test_client()
    answers = {
        "a read": client.get("/api/v2/nothing", base_url=f"http://{REFUSED}"),
        "a sign-in": client.send(
            "POST",
            "/api/v2/auth/tokens",
            {"data": {"type": "tokens", "attributes": {"email": "a@b.c", "password": "x"}}},
            base_url=f"https://{REFUSED}:8443",
        ),
        # refused before negotiation (406) could answer
        "an Accept not answered": client.get(
            "/api/v2/profile",
            headers={"Accept": "application/vnd.api+json; charset=x"},
            base_url=f"http://{REFUSED}",
        ),
        # a subdomain of a trusted name is not trusted by it
        "a subdomain": client.get("/api/v2/nothing", base_url="http://x.api.example.com"),
    }
    for name, response in answers.items():
        assert_refused(response, name)
        assert response.json["links"]["self"].startswith(f"{PUBLIC}/api/v2/"), name
        assert response.headers["X-Request-ID"], name


def test_a_forwarded_host_is_checked_as_the_host_is(make_app):
    app = make_app(PUBLIC_BASE_URL=PUBLIC, PROXY_FIX_X_HOST=1)
    client = app.test_client()
    assert_refused(
        client.get(
            "/api/v2/nothing",
            headers={"X-Forwarded-Host": REFUSED},
            base_url="http://api.example.com",
        )
    )
    forwarded = client.get(
        "/api/v2/nothing", headers={"X-Forwarded-Host": "api.example.com"}, base_url="http://gw"
    )
    assert forwarded.status_code == 404


def test_health_probes_answer_any_host_and_nothing_else_does(public_app):
    client = public_app.test_client()
    for path in ("/healthz", "/readyz"):
        response = client.get(path, base_url="http://10.0.0.7:8000")
        assert response.status_code == 200, path
        assert response.json["status"] == "ok"
    assert_refused(client.get("/api/v2/openapi.json", base_url=f"http://{REFUSED}"))
    assert_refused(client.get("/", base_url=f"http://{REFUSED}"))


def test_trusted_hosts_alone_let_links_follow_a_trusted_host(make_app):
    app = make_app(ALLOWED_HOSTS=("api.example.com", ".example.org"))
    app.test_client_class = FlaskClient  # (the refusal's link is relative: see below)
    client = app.test_client()
    for base in ("https://api.example.com", "http://eu.example.org:8080"):
        response = client.get("/api/v2/nothing", base_url=base)
        assert response.status_code == 404
        assert response.json["links"]["self"] == f"{base}/api/v2/nothing"
    refused = client.get("/api/v2/nothing", base_url=f"http://{REFUSED}")
    assert_refused(refused)
    # No base is known to name instead: a relative reference (JSON:API 1.1 links are URI
    # references), naming no host.
    assert refused.json["links"]["self"] == "/api/v2/nothing"


def test_development_without_either_follows_the_host(client):
    response = client.get("/api/v2/nothing", base_url="http://other.example:8000")
    assert response.json["links"]["self"] == "http://other.example:8000/api/v2/nothing"


def problems(**environ) -> list[str]:
    return settings_problems(load_settings(environ=environ))


def test_the_public_base_url_is_a_scheme_and_a_host():
    def normalized(value):
        return public_base_url({"PUBLIC_BASE_URL": value})

    assert normalized("https://API.Example.com/") == "https://api.example.com"
    assert normalized("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert normalized("https://bücher.example") == "https://xn--bcher-kva.example"
    assert normalized(None) is None
    for wrong in (
        "api.example.com",
        "ftp://api.example.com",
        "https://api.example.com/v2",
        "https://api.example.com?x=1",
        "https://user@api.example.com",
        "https://api.example.com:99999",
        "https://",
    ):
        assert normalized(wrong) is None, wrong
        # refused in every environment, by name, in one line
        [line] = problems(PUBLIC_BASE_URL=wrong)
        assert line.startswith(f"PUBLIC_BASE_URL={wrong!r} is not a scheme and host"), wrong


def test_trusted_hosts_are_host_names():
    assert problems(TRUSTED_HOSTS="api.example.com, .example.org,10.0.0.7") == []
    [line] = problems(TRUSTED_HOSTS="api.example.com,https://www.example.com,a.example:80")
    assert "'https://www.example.com', 'a.example:80'" in line and "TRUSTED_HOSTS" in line


PRODUCTION = {
    "JSONAPI_SERVER_ENV": "production",
    "MAIL_SERVER": "127.0.0.1",
    # served() turns rate limits off; this test is of the Host alone
    "ALLOW_UNSAFE_NO_RATE_LIMITS": "1",
}


def call(port: int, method: str, path: str, host: str, document=None) -> tuple[int, dict, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Host": host, "Content-Type": "application/vnd.api+json"}
    body = None if document is None else json.dumps(document)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    return response.status, dict(response.getheaders()), raw.decode()


def test_production_gunicorn_refuses_to_start_without_it_and_answers_on_it(tmp_path):
    with served(
        tmp_path,
        workers=2,
        prefix="jsonapi_server_public",
        environment={**PRODUCTION, "PUBLIC_BASE_URL": PUBLIC},
    ) as server:
        status, headers, body = call(
            server.port, "POST", "/api/v2/users", "api.example.com", registration("p@example.com")
        )
        assert status == 201, body
        self_link = json.loads(body)["data"]["links"]["self"]
        assert self_link.startswith(f"{PUBLIC}/api/v2/users/")
        assert headers["Location"] == self_link
        status, _headers, body = call(server.port, "GET", "/api/v2", REFUSED)
        assert status == 400 and "untrusted_host" in body and REFUSED not in body
        # a load balancer's probe, by address
        status, _headers, body = call(server.port, "GET", "/readyz", f"127.0.0.1:{server.port}")
        assert (status, json.loads(body)["database"]) == (200, "ok")
        database_url = server.database_url

        unset = ("PUBLIC_BASE_URL", "TRUSTED_HOSTS")
        environment = {
            **{k: v for k, v in os.environ.items() if k not in unset},
            **PRODUCTION,
            "DATABASE_URL": database_url,
            "JWT_SECRET_KEY": TEST_SETTINGS["JWT_SECRET_KEY"],
            "RATELIMIT_ENABLED": "false",
            "JSONAPI_SERVER_INSTANCE_PATH": str(tmp_path / "instance"),
        }
        started = subprocess.run(
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{free_port()}", "wsgi:app"],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert started.returncode != 0
    assert "Traceback" not in started.stderr
    [line] = [line for line in started.stderr.splitlines() if "refuses to start" in line]
    assert "PUBLIC_BASE_URL" in line and "TRUSTED_HOSTS" in line
    assert "ALLOW_UNSAFE_HOST_HEADER" in line
