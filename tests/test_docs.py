"""The docs page at /api/v2/docs: Swagger UI from the swagger-ui-bundle-v2 package's own files,
HTML whatever the JSON:API negotiation says, under a same-origin Content-Security-Policy, and
no operation of the OpenAPI document. (test_docs_browser.py drives it in Chromium.)"""

import re

import pytest
from swagger_ui_bundle import swagger_ui_path

HOSTILE_ACCEPT = {"Accept": "application/vnd.api+json; ext=unknown"}


def test_the_page_is_html_whatever_the_accept_header(client):
    for headers in ({}, HOSTILE_ACCEPT, {"Accept": "application/vnd.api+json"}):
        response = client.get("/api/v2/docs", headers=headers)
        assert response.status_code == 200
        assert response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        assert '<div id="swagger-ui">' in page
        assert "/api/v2/docs/swagger-ui-bundle.js" in page
        assert "<script>" not in page  # no inline script: the policy would refuse it
        loaded = re.findall(r'(?:src|href)="([^"]*)"', page)
        assert loaded and all(url.startswith("/api/v2/docs/") for url in loaded), loaded


def test_the_policy_allows_only_this_origin_and_no_framing(client):
    policy = client.get("/api/v2/docs").headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    # Swagger UI's stylesheet draws its icons as data: images (the browser test sees them).
    assert directives["img-src"] == ["'self'", "data:"]
    assert not [s for sources in directives.values() for s in sources if "unsafe" in s]


@pytest.mark.parametrize(
    ("name", "mimetype"),
    [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("favicon-32x32.png", "image/png"),
    ],
)
def test_assets_are_the_packages_own_files(client, name, mimetype):
    with client.get(f"/api/v2/docs/{name}", headers=HOSTILE_ACCEPT) as response:
        assert response.status_code == 200
        assert response.mimetype == mimetype
        assert response.get_data() == (swagger_ui_path / name).read_bytes()
        assert "Content-Security-Policy" in response.headers


def test_the_initializer_reads_this_apis_openapi_document(client):
    response = client.get("/api/v2/docs/swagger-initializer.js")
    assert response.mimetype == "text/javascript"
    script = response.get_data(as_text=True)
    assert 'url: "/api/v2/openapi.json"' in script
    assert "validatorUrl: null" in script  # the badge would call another site


@pytest.mark.parametrize("name", ["index.html", "swagger-initializer.js.map", "..%2Fsetup.cfg"])
def test_other_files_are_a_jsonapi_404(client, name):
    response = client.get(f"/api/v2/docs/{name}")
    assert response.status_code == 404  # conftest checks the error document


def test_the_docs_are_no_operation_of_the_openapi_document(client):
    paths = client.get("/api/v2/openapi.json").json["paths"]
    assert not [path for path in paths if path.startswith("/api/v2/docs")]
