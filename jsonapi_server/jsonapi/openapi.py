"""The OpenAPI 3.1 document, generated from what the code declares: the routes in the URL map,
the operation each view is described as (`describe`, set by the routing helpers for resource
routes), the marshmallow schemas and the collections' sorts and filters."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import Flask

from schemas.base import Relationship, ResourceSchema, Timestamp, schema_for

from . import API_PREFIX, JSONAPI_MEDIA_TYPE, JSONAPI_VERSION

KINDS = {
    "list": "List {type}",
    "create": "Create a {type} resource",
    "show": "Read a {type} resource",
    "update": "Change a {type} resource (PUT is PATCH)",
    "delete": "Delete a {type} resource",
    "relationship": "Linkage of a relationship of a {type} resource",
    "related": "The resources a relationship of a {type} resource points at",
    "action": "An action on a {type} resource",
    "change_members": "Add or remove members of a to-many relationship",
}


@dataclass(frozen=True)
class OperationSpec:
    kind: str
    schema: type[ResourceSchema] | None  # what the answer holds (None: no resource)
    request: type[ResourceSchema] | str | None = None  # a create/update schema, or "identifiers"
    collection: Any = None  # the listing whose sorts and filters the query may use
    public: bool = False
    status: int = 200
    many: bool = False
    summary: str | None = None
    document: dict | None = None  # the answer's schema, for a document holding no resource


def describe(kind: str, schema: type[ResourceSchema], **options) -> Callable:
    """Attach the operation a view serves (read by the OpenAPI generator)."""

    def mark(view):
        view.openapi = OperationSpec(kind=kind, schema=schema, **options)
        return view

    return mark


def spec_of(view, method: str) -> OperationSpec | None:
    views = getattr(view, "views", None)
    if views is not None:
        view = views.get(method)
    while view is not None and not hasattr(view, "openapi") and hasattr(view, "__wrapped__"):
        view = view.__wrapped__
    return getattr(view, "openapi", None)


# -- schemas ---------------------------------------------------------------------------------


def field_schema(field: ma.fields.Field) -> dict:
    if isinstance(field, Timestamp):
        schema: dict = {"type": "string", "format": "date-time"}
    elif isinstance(field, ma.fields.Email):
        schema = {"type": "string", "format": "email"}
    elif isinstance(field, ma.fields.String):
        schema = {"type": "string"}
    elif isinstance(field, ma.fields.Integer):
        schema = {"type": "integer"}
    elif isinstance(field, ma.fields.Boolean):
        schema = {"type": "boolean"}
    elif isinstance(field, ma.fields.List):
        schema = {"type": "array", "items": field_schema(field.inner)}
    elif isinstance(field, ma.fields.Dict):
        schema = {"type": "object"}
    else:
        schema = {}
    for validator in field.validators:
        if isinstance(validator, ma.validate.Length):
            low, high = (
                ("minItems", "maxItems")
                if schema.get("type") == "array"
                else ("minLength", "maxLength")
            )
            if validator.min is not None:
                schema[low] = validator.min
            if validator.max is not None:
                schema[high] = validator.max
        elif isinstance(validator, ma.validate.OneOf):
            schema["enum"] = list(validator.choices)
    return schema


def nullable(schema: dict) -> dict:
    if "type" in schema:
        return {**schema, "type": [schema["type"], "null"]}
    return schema


def resource_schema(schema_class: type[ResourceSchema]) -> dict:
    """A resource object as answered."""
    attributes, relationships = {}, {}
    for name, field in schema_class._declared_fields.items():
        if name == "id" or field.load_only:
            continue
        if isinstance(field, Relationship):
            linkage = {"$ref": "#/components/schemas/identifier"}
            data = (
                {"type": "array", "items": linkage}
                if field.many
                else {"oneOf": [linkage, {"type": "null"}]}
            )
            relationships[name] = {
                "type": "object",
                "properties": {"links": {"type": "object"}, "data": data},
            }
        else:
            attributes[name] = nullable(field_schema(field))
    properties = {
        "type": {"const": schema_class.type_name()},
        "id": {"type": "string"},
        "attributes": {"type": "object", "properties": attributes},
        "links": {"type": "object"},
    }
    if relationships:
        properties["relationships"] = {"type": "object", "properties": relationships}
    return {"type": "object", "required": ["type", "id"], "properties": properties}


def request_schema(schema_class: type[ResourceSchema], *, partial: bool) -> dict:
    """A create or update document."""
    attributes, required, relationships = {}, [], {}
    for name, field in schema_class._declared_fields.items():
        if name == "id" or field.dump_only:
            continue
        if isinstance(field, Relationship):
            relationships[name] = {
                "type": "object",
                "required": ["data"],
                "properties": {"data": {"$ref": "#/components/schemas/identifier"}},
            }
            continue
        attributes[name] = (
            nullable(field_schema(field)) if field.allow_none else field_schema(field)
        )
        if field.required and not partial:
            required.append(name)
    data = {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"const": schema_class.type_name()},
            "id": {"type": ["string", "null"], "format": "uuid"},
            "attributes": {"type": "object", "properties": attributes, "required": required},
        },
    }
    if relationships:
        data["properties"]["relationships"] = {"type": "object", "properties": relationships}
    if required:
        data["required"].append("attributes")
    return {"type": "object", "required": ["data"], "properties": {"data": data}}


def document_schema(schema_class: type[ResourceSchema], *, many: bool) -> dict:
    resource = {"$ref": f"#/components/schemas/{schema_class.type_name()}"}
    return {
        "type": "object",
        "required": ["data", "jsonapi", "links"],
        "properties": {
            "jsonapi": {"$ref": "#/components/schemas/jsonapi"},
            "links": {"type": "object"},
            "data": {"type": "array", "items": resource} if many else resource,
            "included": {"type": "array", "items": {"type": "object"}},
            "meta": {"type": "object"},
        },
    }


def linkage_document(many: bool) -> dict:
    identifier = {"$ref": "#/components/schemas/identifier"}
    data = (
        {"type": "array", "items": identifier}
        if many
        else {"oneOf": [identifier, {"type": "null"}]}
    )
    return {
        "type": "object",
        "required": ["data"],
        "properties": {"jsonapi": {"type": "object"}, "links": {"type": "object"}, "data": data},
    }


COMMON_COMPONENTS = {
    "jsonapi": {
        "type": "object",
        "properties": {"version": {"const": JSONAPI_VERSION}},
    },
    "identifier": {
        "type": "object",
        "required": ["type", "id"],
        "properties": {"type": {"type": "string"}, "id": {"type": "string"}},
    },
    "error_document": {
        "type": "object",
        "required": ["errors"],
        "properties": {
            "jsonapi": {"type": "object"},
            "links": {"type": "object"},
            "meta": {"type": "object"},
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["status", "code", "title", "detail"],
                    "properties": {
                        "status": {"type": "string"},
                        "code": {"type": "string"},
                        "title": {"type": "string"},
                        "detail": {"type": "string"},
                        "source": {"type": "object"},
                        "meta": {"type": "object"},
                    },
                },
            },
        },
    },
}


# -- operations ------------------------------------------------------------------------------

_ARGUMENT = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>[a-z_]+)>")


def openapi_path(rule: str) -> tuple[str, list[dict]]:
    parameters = []
    for match in _ARGUMENT.finditer(rule):
        schema = {"type": "string"}
        if match["converter"] == "uuid":
            schema["format"] = "uuid"
        parameters.append({"name": match["name"], "in": "path", "required": True, "schema": schema})
    return _ARGUMENT.sub(lambda m: "{" + m["name"] + "}", rule), parameters


def query_parameters(spec: OperationSpec) -> list[dict]:
    if spec.schema is None:
        return []
    text = {"type": "string"}
    parameters = [
        {"name": "include", "in": "query", "schema": text},
        {"name": f"fields[{spec.schema.type_name()}]", "in": "query", "schema": text},
    ]
    if spec.kind == "list" and spec.collection is not None:
        collection = spec.collection
        parameters += [
            {"name": "sort", "in": "query", "schema": text},
            {"name": "page[number]", "in": "query", "schema": {"type": "integer", "minimum": 1}},
            {
                "name": "page[size]",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": collection.max_page_size},
            },
        ]
        parameters += [
            {"name": f"filter[{name}]", "in": "query", "schema": text}
            for name in sorted(collection.filters)
        ]
    return parameters


def success_response(spec: OperationSpec) -> tuple[str, dict]:
    if spec.status == 204:
        return "204", {"description": "Done; no body."}
    if spec.document is not None:
        media = {JSONAPI_MEDIA_TYPE: {"schema": spec.document}}
        return str(spec.status), {"description": spec.summary, "content": media}
    content: dict
    if spec.kind == "relationship" or spec.kind == "change_members":
        content = linkage_document(spec.many)
    else:
        content = document_schema(spec.schema, many=spec.many or spec.kind == "list")
    return str(spec.status), {
        "description": KINDS[spec.kind].format(type=spec.schema.type_name()),
        "content": {JSONAPI_MEDIA_TYPE: {"schema": content}},
    }


def operation(spec: OperationSpec, method: str, path_parameters: list[dict]) -> dict:
    status, success = success_response(spec)
    responses = {
        status: success,
        "default": {
            "description": "A JSON:API error document.",
            "content": {
                JSONAPI_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/error_document"}}
            },
        },
    }
    if method == "GET" and spec.kind == "show" and spec.schema.is_versioned():
        responses["304"] = {"description": "Not modified (If-None-Match)."}
    result: dict = {
        "summary": spec.summary or KINDS[spec.kind].format(type=spec.schema.type_name()),
        "parameters": path_parameters + query_parameters(spec),
        "responses": responses,
    }
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
    if not spec.public:
        result["security"] = [{"bearer": []}]
    return result


def build_openapi(app: Flask) -> dict:
    paths: dict[str, dict] = {}
    types: set[str] = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        path, parameters = openapi_path(rule.rule)
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            spec = spec_of(view, method)
            if spec is None:
                continue
            if spec.schema is not None:
                types.add(spec.schema.type_name())
            paths.setdefault(path, {})[method.lower()] = operation(spec, method, parameters)
    schemas = dict(COMMON_COMPONENTS)
    for type_ in sorted(types | _related_types(types)):
        schemas[type_] = resource_schema(schema_for(type_))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "jsonapi_server",
            "version": "2",
            "description": "JSON:API 1.1: organizations, memberships, channels and invites.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def _related_types(types: set[str]) -> set[str]:
    return {
        field.type_ for type_ in types for field in schema_for(type_).relationship_fields().values()
    }
