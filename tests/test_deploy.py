"""The real path: gunicorn (./gunicorn.conf.py) behind nginx (deploy/nginx.conf), on
loopback ports, with the settings README's deploying section gives. Links are on the public
base URL and another Host is refused (health probes by address aside), gzip works, an
oversize body gets a JSON:API 413 from nginx itself, and long request lines reach the app up to
the one limit both share (longer lines and headers get JSON:API 414/431 from nginx)."""

import gzip
import http.client
import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from .jsonapi_validation import validation_errors
from .served import free_port, wait_for_port
from .served import served as serve

ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)

pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (make test installs it where apt-get can)"
)


def nginx_main_config(directory: Path, nginx_port: int, app_port: int) -> Path:
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{nginx_port};")
    (directory / "site.conf").write_text(site)
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = f"""{user}worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {directory}/site.conf;
}}
"""
    path = directory / "nginx.conf"
    path.write_text(main)
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """(nginx's port, gunicorn's port)."""
    directory = tmp_path_factory.mktemp("deploy")
    nginx_port = free_port()
    proxied = {
        "PROXY_FIX_X_FOR": "1",
        "PROXY_FIX_X_PROTO": "1",
        "PROXY_FIX_X_HOST": "1",
        "PUBLIC_BASE_URL": "https://api.example.com",
    }
    with (
        serve(directory, workers=2, prefix="jsonapi_server_deploy", environment=proxied) as app,
        open(directory / "nginx.stderr", "w") as nginx_log,
    ):
        config = nginx_main_config(directory, nginx_port, app.port)
        nginx = subprocess.Popen(
            [NGINX, "-c", str(config), "-p", str(directory), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=nginx_log,
        )
        try:
            wait_for_port(nginx_port, nginx)
            yield nginx_port, app.port
        finally:
            nginx.terminate()
            try:
                nginx.wait(timeout=15)
            except subprocess.TimeoutExpired:
                nginx.kill()


@pytest.fixture(scope="module")
def served(stack):
    return stack[0]


def call(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": "api.example.com", "X-Forwarded-Proto": "https", **(headers or {})}
    if body is not None and "Content-Type" not in headers:
        headers["Content-Type"] = "application/vnd.api+json"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    raw = response.read()
    connection.close()
    return response, raw


def document(response, raw):
    if response.getheader("Content-Encoding") == "gzip":
        raw = gzip.decompress(raw)
    parsed = json.loads(raw)
    assert not validation_errors(parsed), parsed
    return parsed


def test_links_and_location_are_on_the_public_base_url(served):
    body = json.dumps(
        {
            "data": {
                "type": "users",
                "attributes": {"email": "deploy@example.com", "password": "long enough"},
            }
        }
    )
    response, raw = call(served, "POST", "/api/v2/users", body, {"X-Request-ID": "deploy-1"})
    assert response.status == 201
    created = document(response, raw)
    assert created["data"]["links"]["self"].startswith("https://api.example.com/api/v2/users/")
    assert response.getheader("Location") == created["data"]["links"]["self"]
    assert created["links"]["self"] == "https://api.example.com/api/v2/users"
    assert response.getheader("X-Request-ID") == "deploy-1"
    assert response.getheader("Server") == "nginx"  # no version
    token = created["meta"]["access_token"]
    profile, raw = call(
        served,
        "GET",
        "/api/v2/profile",
        headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"},
    )
    assert profile.status == 200
    assert profile.getheader("Content-Encoding") == "gzip"
    assert document(profile, raw)["data"]["attributes"]["email"] == "deploy@example.com"


def test_an_oversize_body_gets_a_jsonapi_413_from_nginx(served):
    body = (
        b'{"data": {"type": "users", "attributes": {"first_name": "'
        + b"x" * (2 * 1024 * 1024)
        + b'"}}}'
    )
    response, raw = call(served, "POST", "/api/v2/users", body, {"Host": "evil.example"})
    assert response.status == 413
    assert response.getheader("Content-Type") == "application/vnd.api+json"
    error = document(response, raw)["errors"][0]
    assert (error["status"], error["code"]) == ("413", "payload_too_large")
    assert b"evil.example" not in raw


def test_another_host_is_refused_but_a_probe_by_address_is_answered(served):
    response, raw = call(served, "GET", "/api/v2/profile", headers={"Host": "evil.example"})
    assert response.status == 400
    error = document(response, raw)["errors"][0]
    assert (error["code"], error["source"]) == ("untrusted_host", {"header": "Host"})
    assert b"evil.example" not in raw
    response, raw = call(served, "GET", "/healthz", headers={"Host": "10.0.0.7"})
    assert (response.status, json.loads(raw)) == (200, {"status": "ok"})


def test_health_through_nginx(served):
    response, raw = call(served, "GET", "/readyz")
    assert response.status == 200
    assert json.loads(raw)["database"] == "ok"


@pytest.fixture(scope="module")
def token(served):
    body = json.dumps(
        {
            "data": {
                "type": "users",
                "attributes": {"email": "long-lines@example.com", "password": "long enough"},
            }
        }
    )
    response, raw = call(served, "POST", "/api/v2/users", body)
    assert response.status == 201
    return json.loads(raw)["meta"]["access_token"]


def profile_with_line_of(length: int) -> str:
    """A profile path whose request line (`GET <path> HTTP/1.1`) is `length` bytes: an include
    of many unknown paths."""
    prefix = "/api/v2/profile?include="
    paths = ",".join(f"p{number:04d}" for number in range(length // 6 + 1))
    path = (prefix + paths)[: length - len("GET  HTTP/1.1")]
    return path.rstrip(",")


@pytest.mark.parametrize("length", [6000, 8190])
@pytest.mark.parametrize("through", ["gunicorn", "nginx"])
def test_a_long_request_line_gets_a_jsonapi_answer_from_the_app(stack, token, through, length):
    port = stack[1] if through == "gunicorn" else stack[0]
    path = profile_with_line_of(length)
    assert len(f"GET {path} HTTP/1.1") in (length, length - 1)
    response, raw = call(port, "GET", path, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 400
    assert response.getheader("Content-Type") == "application/vnd.api+json"
    error = document(response, raw)["errors"][0]
    assert error["source"] == {"parameter": "include"}


@pytest.mark.parametrize("length", [8300, 40_000])
def test_a_request_line_past_the_limit_gets_a_jsonapi_414_from_nginx(served, length):
    response, raw = call(served, "GET", "/api/v2/profile?include=" + "x" * length)
    assert response.status == 414
    assert response.getheader("Content-Type") == "application/vnd.api+json"
    error = document(response, raw)["errors"][0]
    assert (error["status"], error["code"]) == ("414", "uri_too_long")
    assert "x" * 100 not in raw.decode()  # the URI is not echoed


def test_a_huge_header_gets_a_jsonapi_431_from_nginx(served):
    response, raw = call(served, "GET", "/api/v2/profile", headers={"X-Padding": "y" * 20_000})
    assert response.status == 431
    assert response.getheader("Content-Type") == "application/vnd.api+json"
    error = document(response, raw)["errors"][0]
    assert (error["status"], error["code"]) == ("431", "request_headers_too_large")


def test_a_request_nginx_cannot_parse_gets_a_jsonapi_400(served):
    with socket.create_connection(("127.0.0.1", served), timeout=30) as connection:
        connection.sendall(b"GET /api/v2/profile HTTP/1.1\r\nHost: a\r\nbroken header\r\n\r\n")
        raw = b""
        while chunk := connection.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"Content-Type: application/vnd.api+json" in head
    error = json.loads(body)["errors"][0]
    assert (error["status"], error["code"]) == ("400", "bad_request")
