"""The base of every resource schema: marshmallow-jsonapi 0.24 with its defects neutralized
(see the README's list) and what it lacks (links from path templates, a registry of types,
error objects with JSON pointers)."""

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Any, ClassVar

import marshmallow as ma
from marshmallow_jsonapi import Schema as _LibrarySchema
from marshmallow_jsonapi import SchemaOpts as _LibrarySchemaOpts
from marshmallow_jsonapi import fields as _library_fields

from . import API_PREFIX
from .errors import json_pointer
from .fields import Relationship


class ResourceSchemaOpts(_LibrarySchemaOpts):
    def __init__(self, meta, *args, **kwargs):
        super().__init__(meta, *args, **kwargs)
        # A template of the resource's canonical path below the API prefix: "/users/{id}".
        path = getattr(meta, "self_path", None)
        self.self_path = API_PREFIX + path if path else None
        # Attributes written only for callers the view says may see them (jsonapi.document).
        self.private_fields = frozenset(getattr(meta, "private_fields", ()))


class ResourceSchema(_LibrarySchema):
    """Base of every resource schema. Documents are written by jsonapi.writer from plans read
    off an instance, which the package never dumps; included resources by jsonapi.document."""

    OPTIONS_CLASS = ResourceSchemaOpts
    registry: ClassVar[dict[str, type["ResourceSchema"]]] = {}
    id = _library_fields.Str(dump_only=True)

    class Meta:
        type_ = "resources"
        unknown = ma.RAISE

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        type_ = getattr(cls.Meta, "type_", None)
        if type_ and type_ != ResourceSchema.Meta.type_:
            # The first schema of a type describes it; variants (e.g. a create-only shape) don't.
            ResourceSchema.registry.setdefault(type_, cls)

    # -- describing ---------------------------------------------------------------------------

    @classmethod
    def type_name(cls) -> str:
        return cls.opts.type_

    @classmethod
    @cache  # each class's own
    def relationship_fields(cls) -> Mapping[str, Relationship]:
        return MappingProxyType(
            {
                name: field
                for name, field in cls._declared_fields.items()
                if isinstance(field, Relationship)
            }
        )

    @classmethod
    def read_only_names(cls) -> set[str]:
        return {
            name for name, field in cls._declared_fields.items() if field.dump_only and name != "id"
        }

    @classmethod
    def is_versioned(cls) -> bool:
        """Syncable types carry `updated_in_db_at`: they get ETags and conditional writes."""
        return "updated_in_db_at" in cls._declared_fields

    @classmethod
    def etag_extra(cls, obj: Any) -> str:
        """What besides the version changes the representation (a derived status, say)."""
        return ""

    # -- loading errors -----------------------------------------------------------------------

    def format_error(self, field_name, message, index=None):
        """The library's pointer, with member names escaped as RFC 6901 asks (a client may
        send a name holding `~` or `/`)."""
        if field_name == "_schema":
            pointer = "/data"
        elif isinstance(self.declared_fields.get(field_name), Relationship):
            pointer = json_pointer("data", "relationships", self.inflect(field_name), "data")
        elif field_name == "id":
            pointer = "/data/id"
        else:
            pointer = json_pointer("data", "attributes", self.inflect(field_name))
        return {"detail": message, "source": {"pointer": pointer}}

    def format_errors(self, errors, many):
        formatted = super().format_errors(errors, many)
        return {"errors": [validation_error_object(item) for item in formatted.get("errors", [])]}


_ERROR_CODES = {
    "Unknown field.": "unknown_field",
    "Missing data for required field.": "required",
    "Field may not be null.": "not_nullable",
}


def validation_error_object(item: Any) -> dict:
    """Turn what the library reports (error objects, or bare strings from @validates_schema)
    into complete 422 error objects."""
    if not isinstance(item, dict):
        item = {"detail": str(item), "source": {"pointer": "/data"}}
    detail = str(item.get("detail", "Invalid value."))
    return {
        "status": "422",
        "code": _ERROR_CODES.get(detail, "invalid"),
        "title": "Unprocessable Content",
        "detail": detail,
        "source": item.get("source", {"pointer": "/data"}),
    }


class SchemaShape:
    """Answers jsonapi.query's questions about types from the schema registry."""

    def field_names(self, type_: str) -> set[str] | None:
        schema = ResourceSchema.registry.get(type_)
        if schema is None:
            return None
        return set(schema._declared_fields) - {"id"}

    def relationship_type(self, type_: str, relationship: str) -> str | None:
        schema = ResourceSchema.registry.get(type_)
        if schema is None:
            return None
        field = schema.relationship_fields().get(relationship)
        return field.type_ if field else None


def schema_for(type_: str) -> type[ResourceSchema]:
    return ResourceSchema.registry[type_]
