"""The entry document at /api/v2, /api/v2/ and /: a public JSON:API document whose links name
the OpenAPI document (`describedby`), the docs page and the top collections, negotiated like
every other endpoint, and described in the OpenAPI document."""

import json

import pytest

from jsonapi_server.jsonapi import JSONAPI_MEDIA_TYPE

from .jsonapi_validation import validation_errors

COLLECTIONS = {
    "@organizations": "/api/v2/organizations",
    "@memberships": "/api/v2/memberships",
    "@channels": "/api/v2/channels",
    "@deleted-records": "/api/v2/deleted-records",
    "@users": "/api/v2/users",
    "@auth-tokens": "/api/v2/auth/tokens",
    "@invite-verifications": "/api/v2/invite-verifications",
    "@profile": "/api/v2/profile",
}


@pytest.mark.parametrize("path", ["/api/v2", "/api/v2/", "/"])
def test_the_entry_document_links_the_description_the_docs_and_the_collections(client, path):
    response = client.get(path)  # no token: it is public
    assert response.status_code == 200
    assert response.headers["Content-Type"] == JSONAPI_MEDIA_TYPE
    document = json.loads(response.get_data())
    assert not validation_errors(document)
    assert document["jsonapi"] == {"version": "1.1"}
    links = document["links"]
    assert links["self"] == f"http://localhost{path}"
    assert links["describedby"] == "http://localhost/api/v2/openapi.json"
    assert links["@docs"] == "http://localhost/api/v2/docs"
    assert {name: links[name] for name in COLLECTIONS} == {
        name: f"http://localhost{target}" for name, target in COLLECTIONS.items()
    }
    assert document["meta"]["version"] == "0.1.0"
    assert "JSON:API" in document["meta"]["description"]
    assert "data" not in document


def test_every_entry_link_is_a_route_of_the_app(app, client):
    links = client.get("/api/v2").json["links"]
    adapter = app.url_map.bind("localhost")
    for name, url in links.items():
        path = url.removeprefix("http://localhost")
        methods = {"GET", "POST"}
        assert any(adapter.test(path, method=m) for m in methods), (name, url)
    assert client.get(links["describedby"]).status_code == 200
    assert client.get(links["@docs"]).status_code == 200


def test_links_follow_the_host_the_client_addressed(client):
    links = client.get("/api/v2", base_url="https://api.example.com").json["links"]
    assert links["self"] == "https://api.example.com/api/v2"
    assert links["@organizations"] == "https://api.example.com/api/v2/organizations"


@pytest.mark.parametrize("path", ["/api/v2", "/"])
def test_the_entry_document_is_negotiated_like_the_rest(client, path):
    refused = client.get(path, headers={"Accept": "application/vnd.api+json; ext=unknown"})
    assert refused.status_code == 406
    assert refused.json["errors"][0]["source"] == {"header": "Accept"}
    served = client.get(path, headers={"Accept": "application/vnd.api+json, */*;q=0.1"})
    assert served.status_code == 200
    assert "Accept" in served.headers["Vary"]
    foreign = client.open(path, method="POST", data="x", headers={"Content-Type": "text/plain"})
    assert foreign.status_code == 415


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_the_entry_document_is_read_only(client, method):
    response = client.send(method, "/api/v2", {"data": None})
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    "query", ["include=users", "sort=name", "page[size]=2", "filter[a]=b", "fields[users]=email"]
)
def test_query_parameters_that_cannot_apply_are_400(client, query):
    response = client.get(f"/api/v2?{query}")
    assert response.status_code == 400
    assert response.json["errors"][0]["source"] == {"parameter": query.split("=")[0]}


def test_implementation_specific_parameters_are_ignored_and_bad_names_refused(client):
    assert client.get("/api/v2?camelCase=1").status_code == 200
    assert client.get("/api/v2?lowercase=1").status_code == 400


def test_the_entry_document_is_a_public_operation_of_the_openapi_document(client):
    document = client.get("/api/v2/openapi.json").json
    assert "/api/v2/" not in document["paths"] and "/" not in document["paths"]  # aliases
    operation = document["paths"]["/api/v2"]["get"]
    assert operation["security"] == [] and operation["operationId"] == "entry"
    assert "parameters" not in operation
    assert set(operation["responses"]) == {"200", "400", "default"}
    schema = operation["responses"]["200"]["content"][JSONAPI_MEDIA_TYPE]["schema"]
    assert schema["properties"]["links"]["required"] == ["self", "describedby"]
