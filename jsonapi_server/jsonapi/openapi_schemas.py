"""JSON Schemas of the OpenAPI document, read off the marshmallow schemas: resource objects as
answered, create and update documents, linkage, and the one JSON:API error document."""

from typing import Any

import marshmallow as ma

from . import JSONAPI_VERSION
from .fields import Relationship, Timestamp
from .schema import ResourceSchema

IDENTIFIER = {"$ref": "#/components/schemas/identifier"}
ERROR_DOCUMENT = {"$ref": "#/components/schemas/error_document"}


# The schema of each field class; the first that a field is an instance of applies.
_FIELD_SCHEMAS = (
    (Timestamp, {"type": "string", "format": "date-time"}),
    (ma.fields.Email, {"type": "string", "format": "email"}),
    (ma.fields.String, {"type": "string"}),
    (ma.fields.Integer, {"type": "integer"}),
    (ma.fields.Boolean, {"type": "boolean"}),
    (ma.fields.Dict, {"type": "object"}),
)


def field_schema(field: ma.fields.Field) -> dict:
    if isinstance(field, ma.fields.List):
        schema: dict = {"type": "array", "items": field_schema(field.inner)}
    else:
        schema = next((dict(base) for kind, base in _FIELD_SCHEMAS if isinstance(field, kind)), {})
    for validator in field.validators:
        if isinstance(validator, ma.validate.Length):
            unit = "Items" if schema.get("type") == "array" else "Length"
            if validator.min is not None:
                schema[f"min{unit}"] = validator.min
            if validator.max is not None:
                schema[f"max{unit}"] = validator.max
        elif isinstance(validator, ma.validate.OneOf):
            schema["enum"] = list(validator.choices)
    return schema


def nullable(schema: dict) -> dict:
    if "type" in schema:
        return {**schema, "type": [schema["type"], "null"]}
    return schema


def answered_null(field: ma.fields.Field) -> bool:
    """Whether an answer may hold null: the field allows None (dump-only fields say so for
    the values they may write), unless its metadata says null is only accepted."""
    return field.metadata.get("answered_null", field.allow_none)


def _to_one(schema: dict) -> dict:
    return {"oneOf": [schema, {"type": "null"}]}


def resource_schema(schema_class: type[ResourceSchema]) -> dict:
    """A resource object as answered. No attribute is required: a sparse fieldset
    (`fields[type]`) leaves out the members not asked for, those a create requires too."""
    attributes, relationships = {}, {}
    for name, field in schema_class._declared_fields.items():
        if name == "id" or field.load_only:
            continue
        if isinstance(field, Relationship):
            data = {"type": "array", "items": IDENTIFIER} if field.many else _to_one(IDENTIFIER)
            relationships[name] = {
                "type": "object",
                "properties": {"links": {"type": "object"}, "data": data},
            }
            continue
        schema = field_schema(field)
        attributes[name] = nullable(schema) if answered_null(field) else schema
    properties = {
        "type": {"type": "string", "const": schema_class.type_name()},
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
                "properties": {"data": IDENTIFIER},
            }
            continue
        schema = field_schema(field)
        attributes[name] = nullable(schema) if field.allow_none else schema
        if field.required and not partial:
            required.append(name)
    attributes_schema: dict = {"type": "object", "properties": attributes}
    if required:
        attributes_schema["required"] = required
    data: dict[str, Any] = {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "const": schema_class.type_name()},
            "id": {"type": ["string", "null"], "format": "uuid"},
            "attributes": attributes_schema,
        },
    }
    if relationships:
        data["properties"]["relationships"] = {"type": "object", "properties": relationships}
    if required:
        data["required"].append("attributes")
    return {"type": "object", "required": ["data"], "properties": {"data": data}}


def writes_relationships(schema_class: type[ResourceSchema]) -> bool:
    """A request of this schema names other resources (which may not exist: 404)."""
    return any(not field.dump_only for field in schema_class.relationship_fields().values())


def document_schema(
    schema_class: type[ResourceSchema], *, many: bool, maybe_null: bool = False
) -> dict:
    resource = {"$ref": f"#/components/schemas/{schema_class.type_name()}"}
    if many:
        data: dict = {"type": "array", "items": resource}
    else:
        data = _to_one(resource) if maybe_null else resource
    return {
        "type": "object",
        "required": ["data", "jsonapi", "links"],
        "properties": {
            "jsonapi": {"$ref": "#/components/schemas/jsonapi"},
            "links": {"type": "object"},
            "data": data,
            "included": {"type": "array", "items": {"type": "object"}},
            "meta": {"type": "object"},
        },
    }


def linkage_document(many: bool) -> dict:
    data = {"type": "array", "items": IDENTIFIER} if many else _to_one(IDENTIFIER)
    return {
        "type": "object",
        "required": ["data"],
        "properties": {"jsonapi": {"type": "object"}, "links": {"type": "object"}, "data": data},
    }


COMMON_COMPONENTS = {
    "jsonapi": {
        "type": "object",
        "properties": {"version": {"type": "string", "const": JSONAPI_VERSION}},
    },
    "identifier": {
        "type": "object",
        "required": ["type", "id"],
        "properties": {"type": {"type": "string"}, "id": {"type": "string"}},
    },
    "error_document": {
        "type": "object",
        "description": "A JSON:API error document: `status` a string, `code` stable.",
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
