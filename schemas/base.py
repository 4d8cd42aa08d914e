"""The base every resource schema stands on: marshmallow-jsonapi 0.24 with its defects
neutralized (see the README's list) and the pieces it lacks (links from path templates,
linkage from foreign-key columns, timestamps in the API's one wire form)."""

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import marshmallow as ma
from marshmallow_jsonapi import Schema as _LibrarySchema
from marshmallow_jsonapi import SchemaOpts as _LibrarySchemaOpts
from marshmallow_jsonapi import fields as _library_fields

from jsonapi_server.jsonapi import API_PREFIX
from jsonapi_server.jsonapi.errors import json_pointer
from jsonapi_server.jsonapi.timestamps import format_timestamp, parse_timestamp

_LINKS_KEY = "\x00links"  # carries a resource's links from _serialize to format_item


class _Attributes(dict):
    """A format_map() source that reads attributes: '{organization_id}' -> obj.organization_id."""

    def __init__(self, obj: Any):
        super().__init__()
        self.obj = obj

    def __missing__(self, key: str) -> Any:
        return getattr(self.obj, key)


class Timestamp(ma.fields.Field):
    """`2021-11-23T14:38:03.250Z` out; any RFC 3339 form (or `... UTC`) in, kept to the ms."""

    # Typed as marshmallow types it (an instance attribute, which each class sets).
    default_error_messages: dict[str, str] = {  # noqa: RUF012
        "invalid": "Not a valid timestamp (RFC 3339, e.g. 2021-11-23T14:38:03.250Z)."
    }

    def _serialize(self, value, attr, obj, **kwargs):
        return format_timestamp(value)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_timestamp(value)
        except ValueError as error:
            raise self.make_error("invalid") from error


class Boolean(ma.fields.Boolean):
    """JSON `true` or `false` only: marshmallow's takes "yes", 1, "on" and "true" as true."""

    default_error_messages: dict[str, str] = {"invalid": "Not a boolean (true or false)."}  # noqa: RUF012

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def validate_single_line(value: str) -> None:
    """A name is one line without control characters: an organization's name is put in the
    Subject of its invite mails, where a line break would refuse the mail (or forge a header)."""
    if _CONTROL.search(value):
        raise ma.ValidationError("One line of text, without line breaks or control characters.")


def single_line(*, max_length: int, min_length: int | None = None) -> list:
    """The validators of a name: its length, and one line."""
    return [ma.validate.Length(min=min_length, max=max_length), validate_single_line]


def validate_web_url(value: str) -> None:
    """An http(s) URL of at most 2048 characters, or the empty string (which clears it)."""
    if value == "":
        return
    if len(value) > 2048:
        raise ma.ValidationError("Longer than maximum length 2048.")
    ma.validate.URL(schemes={"http", "https"}, require_tld=False)(value)


def validate_optional_email(value: str) -> None:
    """An email address of at most 254 characters, or the empty string (which clears it)."""
    if value == "":
        return
    if len(value) > 254:
        raise ma.ValidationError("Longer than maximum length 254.")
    ma.validate.Email()(value)


class Relationship(_library_fields.Relationship):
    """A relationship whose linkage never costs a query.

    To-one linkage is read from the foreign-key column (`id_attribute`), never from the
    related object; to-many linkage is written only when the client included the relationship
    (the service then loaded it eagerly). Links are built from path templates.
    """

    def __init__(
        self,
        type_: str,
        *,
        many: bool = False,
        id_attribute: str | None = None,
        links: bool = True,
        **kwargs: Any,
    ):
        kwargs.setdefault("dump_only", True)
        super().__init__(type_=type_, many=many, include_resource_linkage=not many, **kwargs)
        self.id_attribute = id_attribute
        self.with_links = links

    @property
    def model_attribute(self) -> str:
        return self.attribute or self.name

    def serialize(self, attr, obj, accessor=None):
        relationship: dict[str, Any] = {}
        schema = self.parent
        resource_path = getattr(schema, "current_link", None)
        if self.with_links and resource_path:
            relationship["links"] = {
                "self": f"{resource_path}/relationships/{self.data_key or self.name}",
                "related": f"{resource_path}/{self.data_key or self.name}",
            }
        if not self.many:
            related_id = getattr(obj, self.id_attribute or f"{self.model_attribute}_id")
            relationship["data"] = (
                None if related_id is None else {"type": self.type_, "id": str(related_id)}
            )
        elif self.name in schema.included_relationships:
            related = getattr(obj, self.model_attribute) or []
            relationship["data"] = [{"type": self.type_, "id": str(item.id)} for item in related]
        return relationship


class ResourceSchemaOpts(_LibrarySchemaOpts):
    def __init__(self, meta, *args, **kwargs):
        super().__init__(meta, *args, **kwargs)
        # A template of the resource's canonical path below the API prefix: "/users/{id}".
        path = getattr(meta, "self_path", None)
        self.self_path = API_PREFIX + path if path else None
        # Attributes written only for callers the view says may see them (jsonapi.document).
        self.private_fields = frozenset(getattr(meta, "private_fields", ()))


class ResourceSchema(_LibrarySchema):
    """Base of every resource schema. An instance that dumps or loads serves one call and is
    thrown away, so nothing of one response can reach another (the library keeps
    `included_data` on the instance); documents are written by jsonapi.writer from plans read
    off an instance, which is never dumped. Included resources are written once each by
    jsonapi.document."""

    OPTIONS_CLASS = ResourceSchemaOpts
    registry: ClassVar[dict[str, type["ResourceSchema"]]] = {}

    class Meta:
        type_ = "resources"
        unknown = ma.RAISE

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        type_ = getattr(cls.Meta, "type_", None)
        if type_ and type_ != ResourceSchema.Meta.type_:
            # The first schema of a type describes it; variants (e.g. a create-only shape) don't.
            ResourceSchema.registry.setdefault(type_, cls)

    def __init__(
        self,
        *args,
        base_url: str = "",
        included_relationships: frozenset[str] = frozenset(),
        **kwargs,
    ):
        if kwargs.get("include_data"):
            raise ValueError("Included resources are built by jsonapi.document, not the schema.")
        super().__init__(*args, **kwargs)
        self.base_url = base_url
        # The relationships of this type the client included: their to-many linkage is written.
        self.included_relationships = included_relationships

    # -- describing ---------------------------------------------------------------------------

    @classmethod
    def type_name(cls) -> str:
        return cls.opts.type_

    @classmethod
    def relationship_fields(cls) -> Mapping[str, Relationship]:
        found = cls.__dict__.get("_relationship_fields")  # each class's own, found once
        if found is None:
            found = MappingProxyType(
                {
                    name: field
                    for name, field in cls._declared_fields.items()
                    if isinstance(field, Relationship)
                }
            )
            cls._relationship_fields = found
        return found

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

    def self_link(self, obj: Any) -> str | None:
        if not self.opts.self_path:
            return None
        return self.base_url + self.opts.self_path.format_map(_Attributes(obj))

    # -- dumping ------------------------------------------------------------------------------
    # The library's path, made lean: attributes read with plain getattr, the resource's path
    # built once per object (its relationship links derive from it), and format_item without
    # the per-item rebuild of the field map.

    def get_attribute(self, obj, attr, default):
        return getattr(obj, attr, default)

    def _serialize(self, obj, *, many=False):
        if many and obj is not None:
            return [self._serialize(item) for item in obj]
        self.current_link = self.self_link(obj)
        data = super()._serialize(obj, many=False)
        data[_LINKS_KEY] = self.current_link
        return data

    def _on_bind_fields(self) -> None:
        """What format_item needs of the fields, worked out once per schema instance."""
        self._members = {}
        for name, field in self.fields.items():
            key = field.data_key or name
            if name == "id":
                self._members[key] = ("id", key)
            elif isinstance(field, _library_fields.BaseRelationship):
                self._members[key] = ("relationships", self.inflect(name))
            else:
                self._members[key] = ("attributes", self.inflect(name))

    def format_item(self, item):
        if not item:
            return None
        if not hasattr(self, "_members"):
            self._on_bind_fields()
        resource = {"type": self.opts.type_}
        attributes, relationships = {}, {}
        self_link = item.pop(_LINKS_KEY, None)
        for key, value in item.items():
            place, name = self._members[key]
            if place == "id":
                resource["id"] = value
            elif place == "attributes":
                attributes[name] = value
            elif value:
                relationships[name] = value
        if attributes:
            resource["attributes"] = attributes
        if relationships:
            resource["relationships"] = relationships
        if self_link:
            resource["links"] = {"self": self_link}
        return resource

    def get_resource_links(self, item):
        return None  # written by format_item from the object, not from the dumped dict

    def render_included_data(self, data):
        self.included_data = {}
        return data

    # -- loading errors -----------------------------------------------------------------------

    def format_error(self, field_name, message, index=None):
        """The library's pointer, with member names escaped as RFC 6901 asks (a client may
        send a name holding `~` or `/`)."""
        if field_name == "_schema":
            return {"detail": message, "source": {"pointer": "/data"}}
        if isinstance(self.declared_fields.get(field_name), Relationship):
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
