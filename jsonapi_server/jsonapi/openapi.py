"""The OpenAPI 3.1 document, generated from what the code declares (routes, `describe`d
views, schemas, sorts, filters, rate limits), so it cannot drift from the code: ids, security
and error answers are derived, never listed per route."""

import re

from flask import Flask
from werkzeug.routing import Rule

from . import API_PREFIX, JSONAPI_MEDIA_TYPE
from .openapi_answers import (
    described,
    error_response,
    error_statuses,
    query_parameters,
    success_response,
    summary,
)
from .openapi_schemas import (
    COMMON_COMPONENTS,
    ERROR_DOCUMENT,
    linkage_document,
    request_schema,
    resource_schema,
)
from .operations import OperationSpec, rate_limited, spec_of
from .schema import schema_for

# The method each kind is served by first (else GET); another method's operation id says it.
USUAL_METHOD = {
    "create": "POST",
    "update": "PATCH",
    "delete": "DELETE",
    "action": "POST",
    "change_members": "POST",
}
BEARER = "bearer"

_ARGUMENT = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>[a-z_]+)>")


def openapi_path(rule: str) -> tuple[str, list[dict]]:
    parameters = []
    for match in _ARGUMENT.finditer(rule):
        schema = {"type": "string"}
        if match["converter"] == "uuid":
            schema["format"] = "uuid"
        parameters.append({"name": match["name"], "in": "path", "required": True, "schema": schema})
    return _ARGUMENT.sub(lambda m: "{" + m["name"] + "}", rule), parameters


def dasherized(rule: str) -> str:
    """A rule with its literal segments dasherized (its arguments kept as they are)."""
    pieces = re.split(r"(<[^>]+>)", rule)
    return "".join(p if p.startswith("<") else p.replace("_", "-") for p in pieces)


def operation_id(spec: OperationSpec, method: str, path: str) -> str:
    """`{kind}_{the path's literal segments}`, and the method when it is not the kind's
    usual one: `list_organizations_invites`, `update_organizations_put`. It depends on the
    operation alone, so it stays the same whatever else is registered, in whatever order."""
    words = [
        re.sub(r"[^a-z0-9]+", "_", segment.lower())
        for segment in path.removeprefix(API_PREFIX).split("/")
        if segment and not segment.startswith("{") and segment != "relationships"
    ]
    name = "_".join([spec.kind, *words])
    if method != USUAL_METHOD.get(spec.kind, "GET"):
        name += "_" + method.lower()
    return name


def operation(
    spec: OperationSpec, method: str, path: str, limited: bool, documents: dict[str, dict]
) -> dict:
    path, parameters = openapi_path(path)
    status, success = success_response(spec, documents)
    responses = {status: success}
    if method == "GET" and spec.kind == "show" and spec.schema and spec.schema.is_versioned():
        responses["304"] = {"description": "Not modified (If-None-Match)."}
    for error in sorted(error_statuses(spec, path, limited)):
        responses[str(error)] = error_response(spec, error)
    if spec.schema is not None or spec.document is not None:
        responses["default"] = described(
            "Any other failure (405, 406, 413, 500, and 400 for a Host this server does not "
            "answer for): a JSON:API error document.",
            ERROR_DOCUMENT,
        )
    result: dict = {
        "operationId": operation_id(spec, method, path),
        "summary": summary(spec),
        "tags": [spec.schema.type_name() if spec.schema else "service"],
        "parameters": parameters + query_parameters(spec),
        "responses": responses,
    }
    if not result["parameters"]:
        del result["parameters"]
    if spec.request is not None:
        body = (
            linkage_document(True)
            if spec.request == "identifiers"
            else request_schema(spec.request, partial=spec.kind == "update")
        )
        result["requestBody"] = {
            "required": True,
            "content": {JSONAPI_MEDIA_TYPE: {"schema": body}},
        }
    if spec.public:
        result["security"] = []
    return result


def _methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def described_rules(app: Flask) -> list[Rule]:
    """The described rules, less each alias (a rule that dasherizes to another's and serves the
    same operations): the dasherized form is the canonical one."""
    groups: dict[str, list[Rule]] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if any(spec_of(view, method) for method in _methods(rule)):
            groups.setdefault(dasherized(rule.rule).rstrip("/"), []).append(rule)
    listed = []
    for rules in groups.values():
        canonical = min(rules, key=lambda rule: (rule.rule.count("_"), rule.rule))
        listed.append(canonical)
        listed += [rule for rule in rules if not _same_operations(app, rule, canonical)]
    # The API's own rules first: an operation served outside it too (the entry document at /)
    # is listed once, under the API's rule.
    return sorted(listed, key=lambda rule: (not rule.rule.startswith(API_PREFIX), rule.rule))


def _same_operations(app: Flask, rule: Rule, other: Rule) -> bool:
    view, other_view = app.view_functions[rule.endpoint], app.view_functions[other.endpoint]
    return _methods(rule) == _methods(other) and all(
        spec_of(view, method) == spec_of(other_view, method) for method in _methods(rule)
    )


def build_openapi(app: Flask) -> dict:
    paths: dict[str, dict] = {}
    types: set[str] = set()
    operation_ids: dict[str, OperationSpec] = {}
    documents: dict[str, dict] = {}
    for rule in described_rules(app):
        view = app.view_functions[rule.endpoint]
        for method in _methods(rule):
            spec = spec_of(view, method)
            if spec is None:
                continue
            if spec.schema is not None:
                types.add(spec.schema.type_name())
            described = operation(spec, method, rule.rule, rate_limited(view, method), documents)
            known = operation_ids.get(described["operationId"])
            if known is spec:
                continue  # the same operation under another rule
            if known is not None:
                raise ValueError(f"two operations would be {described['operationId']}")
            operation_ids[described["operationId"]] = spec
            paths.setdefault(openapi_path(rule.rule)[0], {})[method.lower()] = described
    related = {
        field.type_ for type_ in types for field in schema_for(type_).relationship_fields().values()
    }
    schemas = dict(COMMON_COMPONENTS)
    for type_ in sorted(types | related):
        schemas[type_] = resource_schema(schema_for(type_))
    schemas.update(sorted(documents.items()))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "jsonapi_server",
            "version": "2",
            "description": "JSON:API 1.1: organizations, memberships, channels and invites.",
            "license": {"name": "Proprietary", "identifier": "LicenseRef-Proprietary"},
        },
        # Relative: the document is served by the API it describes, on whatever host.
        "servers": [{"url": "/"}],
        "security": [{BEARER: []}],
        "tags": [{"name": tag, "description": f"The `{tag}` resources."} for tag in sorted(types)]
        + [{"name": "service", "description": "Liveness, readiness and this document."}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
