"""The hostile-input catalogue, generated from the schemas, the declared filters and the routes
(tests/hostile_catalogue.py): what a probe sends never gets a 5xx; a refusal has the right
status and `source`, and changes nothing; what is accepted round-trips unchanged."""

import marshmallow as ma
import pytest

from jsonapi_server.jsonapi.collection_query import PAGE_MEMBERS
from jsonapi_server.jsonapi.fields import Timestamp
from jsonapi_server.jsonapi.query import SPEC_FAMILIES
from jsonapi_server.jsonapi.schema import ResourceSchema

from .hostile_catalogue import (
    World,
    body_operations,
    operations,
    random_id,
    snapshot,
    valid_value,
    writable_attributes,
)

HOSTILE_TEXT = {
    "NUL": "a\x00b",
    "lone surrogate": "a\ud800b",
    "10,000 characters": "x" * 10_000,
    "CR/LF": "line one\r\nline two",
    "RTL override": "abc\u202edef",
}
ALWAYS_REFUSED = {"NUL", "lone surrogate", "10,000 characters"}
HOSTILE_PARAMETERS = {"NUL": "1\x00", "overlong": "9" * 10_000}
# A value each family refuses (a free-text filter takes any non-empty text, none takes "").
MALFORMED = {"include": "..", "fields": "..", "sort": "--", "page": "-1", "filter": ""}
HOSTILE_TIMESTAMPS = {
    "year 1 at +14:00": "0001-01-01T00:00:00+14:00",
    "year 9999 at -14:00": "9999-12-31T23:59:59-14:00",
    "10,000-digit fraction": "2021-11-23T14:38:03." + "1" * 10_000 + "Z",
}


@pytest.fixture
def world(api, client, login, session):
    return World(api, client, login)


def _string_fields(schema_class):
    return {
        name: field
        for name, field in writable_attributes(schema_class).items()
        if isinstance(field, ma.fields.String)
    }


def _errors(response) -> list[dict]:
    return response.json.get("errors", []) if response.is_json else []


def _refusal_problems(response, status, source, before, after) -> list[str]:
    problems = []
    if response.status_code != status:
        problems.append(f"status {response.status_code}, not {status}: {response.json}")
    elif not any(error.get("source") == source for error in _errors(response)):
        problems.append(f"no error with source {source}: {response.json}")
    if before != after:
        changed = sorted(name for name in before if before[name] != after[name])
        problems.append(f"a refusal changed {changed}")
    return problems


def _refused_anyway(world, operation, name, field, response) -> bool:
    """Whether a plain value in `name` gets the very same refusal (another member's fault)."""
    again = world.send(operation, world.document(operation, {name: valid_value(field)}))
    return _errors(again) == _errors(response)


def test_every_writable_string_attribute_withstands_hostile_text(app, world, connection):
    failures, covered = [], set()
    for operation in body_operations(app):
        schema_class = operation.spec.request
        for name, field in _string_fields(schema_class).items():
            covered.add((schema_class.type_name(), name))
            pointer = {"pointer": f"/data/attributes/{name}"}
            for label, text in HOSTILE_TEXT.items():
                document = world.document(operation, {name: text})
                before = snapshot(connection)
                response = world.send(operation, document)
                after = snapshot(connection)
                where = f"{operation} {name} with {label}"
                status = response.status_code
                if status >= 500:
                    failures.append(f"{where}: {status}")
                elif status < 300:
                    attributes = response.json["data"].get("attributes", {})
                    if label in ALWAYS_REFUSED:
                        failures.append(f"{where}: accepted ({status})")
                    elif not field.load_only and attributes.get(name) != text:
                        failures.append(f"{where}: came back as {attributes.get(name)!r}")
                elif (
                    label not in ALWAYS_REFUSED
                    and status == 422
                    and _refused_anyway(world, operation, name, field, response)
                ):
                    # refused for another member (a reset token no reset has), as a valid value
                    # would be: the text itself was not the problem
                    if before != after:
                        failures.append(f"{where}: a {status} changed the tables")
                elif label in ALWAYS_REFUSED or status == 422:
                    problems = _refusal_problems(response, 422, pointer, before, after)
                    failures += [f"{where}: {problem}" for problem in problems]
                elif before != after:
                    failures.append(f"{where}: a {status} changed the tables")
    described = {
        (type_, name)
        for type_, schema_class in ResourceSchema.registry.items()
        if schema_class.__module__.startswith("schemas.")  # not other tests' own types
        for name in _string_fields(schema_class)
    }
    assert not failures, "\n".join(failures)
    # Every registered type's writable strings were sent somewhere (discovery missed none).
    assert described <= covered, described - covered


def test_every_boolean_attribute_takes_json_booleans_only(app, world, connection):
    failures = []
    for operation in body_operations(app):
        for name, field in writable_attributes(operation.spec.request).items():
            if not isinstance(field, ma.fields.Boolean):
                continue
            for value in ("yes", "true", 1, 0, "false"):
                document = world.document(operation, {name: value})
                before = snapshot(connection)
                response = world.send(operation, document)
                pointer = {"pointer": f"/data/attributes/{name}"}
                problems = _refusal_problems(response, 422, pointer, before, snapshot(connection))
                failures += [f"{operation} {name}={value!r}: {problem}" for problem in problems]
    assert not failures, "\n".join(failures)


def _families(operation) -> list[tuple[str, str]]:
    """(parameter, family) for every query parameter a collection declares."""
    spec = operation.spec
    names = [("include", "include"), (f"fields[{spec.schema.type_name()}]", "fields")]
    names.append(("sort", "sort"))
    names += [(f"filter[{name}]", "filter") for name in sorted(spec.collection.filters)]
    names += [(f"page[{member}]", "page") for member in PAGE_MEMBERS]
    return names


def _collections(app):
    return [op for op in operations(app) if op.spec.kind == "list" and op.spec.collection]


def test_every_query_parameter_family_withstands_hostile_values(app, world, client):
    assert set(MALFORMED) == SPEC_FAMILIES  # a new family needs its malformed value here
    failures = []
    for operation in _collections(app):
        url = world.url(operation)
        for parameter, family in _families(operation):
            values = {**HOSTILE_PARAMETERS, "malformed": MALFORMED[family]}
            for label, value in values.items():
                response = client.get(url, query_string={parameter: value}, headers=world.headers)
                where = f"{operation} {parameter} with {label}"
                if response.status_code != 400:
                    failures.append(f"{where}: {response.status_code}")
                elif _errors(response)[0].get("source") != {"parameter": parameter}:
                    failures.append(f"{where}: source {_errors(response)[0].get('source')}")
    assert not failures, "\n".join(failures)


def test_every_timestamp_input_withstands_hostile_values(app, world, client, connection):
    failures = []

    def expect(where, response, status, source, before):
        problems = _refusal_problems(response, status, source, before, snapshot(connection))
        failures.extend(f"{where}: {problem}" for problem in problems)

    for operation in body_operations(app):
        for name, field in writable_attributes(operation.spec.request).items():
            if not isinstance(field, Timestamp):
                continue
            for label, text in HOSTILE_TIMESTAMPS.items():
                document = world.document(operation, {name: text})
                before = snapshot(connection)
                response = world.send(operation, document)
                pointer = {"pointer": f"/data/attributes/{name}"}
                expect(f"{operation} {name} with {label}", response, 422, pointer, before)
    conditional = [
        op
        for op in operations(app)
        if op.spec.kind in ("update", "delete", "action")
        and op.spec.schema.is_versioned()
        and "id" in world.arguments(op)
    ]
    assert conditional
    if_match = {"header": "If-Match"}
    for operation in conditional:
        document = world.document(operation, {}) if operation.spec.request else None
        for label, text in HOSTILE_TIMESTAMPS.items():
            before = snapshot(connection)
            response = world.send(operation, document, headers={"If-Match": text})
            expect(f"{operation} If-Match {label}", response, 400, if_match, before)
            # Quoted, it is a well-formed entity tag naming no version of ours: stale.
            before = snapshot(connection)
            response = world.send(operation, document, headers={"If-Match": f'"{text}"'})
            if operation.spec.kind == "delete":
                expect(f"{operation} If-Match {label!r}", response, 412, if_match, before)
            elif response.status_code >= 500 or any(
                error.get("source") != if_match
                for error in _errors(response)
                if error["status"] == "412"
            ):
                failures.append(f"{operation} If-Match {label!r} quoted: {response.status_code}")
    for operation in _collections(app):
        if "updated_since" not in operation.spec.collection.filters:
            continue
        for label, text in HOSTILE_TIMESTAMPS.items():
            query = {"filter[updated_since]": text}
            response = client.get(world.url(operation), query_string=query, headers=world.headers)
            source = _errors(response)[0].get("source") if _errors(response) else None
            if response.status_code != 400 or source != {"parameter": "filter[updated_since]"}:
                failures.append(f"{operation} filter[updated_since] with {label}: {source}")
    assert not failures, "\n".join(failures)


def test_every_get_answers_head_as_get_without_a_body(app, world, client):
    failures = []
    gets = [op for op in operations(app) if op.method == "GET"]
    assert len(gets) > 10
    for operation in gets:
        url = world.url(operation)
        got = client.get(url, headers=world.headers)
        head = client.head(url, headers=world.headers)
        compared = ("Content-Type", "Content-Length", "ETag")
        if head.status_code != got.status_code or any(
            head.headers.get(name) != got.headers.get(name) for name in compared
        ):
            failures.append(f"HEAD {url}: {head.status_code} {dict(head.headers)}")
    assert not failures, "\n".join(failures)


def test_every_collection_finds_by_ids(app, world, client):
    failures = []
    for operation in _collections(app):
        url = world.url(operation)
        wanted = world.ids.get(operation.spec.schema.type_name())
        ids = [wanted] if wanted else []
        response = client.get(
            url, query_string={"filter[id]": ",".join([*ids, random_id()])}, headers=world.headers
        )
        found = [item["id"] for item in response.json.get("data", [])]
        if response.status_code != 200 or found != ids:
            failures.append(f"{operation} filter[id]: {response.status_code} {found} != {ids}")
        for value in ("not-a-uuid", ",".join(random_id() for _ in range(101))):
            response = client.get(url, query_string={"filter[id]": value}, headers=world.headers)
            source = _errors(response)[0].get("source") if _errors(response) else None
            if response.status_code != 400 or source != {"parameter": "filter[id]"}:
                failures.append(f"{operation} filter[id]={value[:20]}: {response.status_code}")
    assert not failures, "\n".join(failures)
