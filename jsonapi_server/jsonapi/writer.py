"""Resource objects written from a plan compiled once per schema class and sparse fieldset.

The marshmallow-jsonapi schema stays the one description of every resource type: a plan is
read off a bound schema instance (its dump fields, data keys, type, path template and
relationships) and then writes resource objects in one pass per object, without marshmallow's
per-field dispatch. Fields whose serialization is plain (strings, booleans, integers, our
timestamps) are written directly; any other field is serialized by the marshmallow field
itself. `tests/test_writer.py` proves the output equal to `Schema.dump` for every type.

A plan holds nothing of a request: the base URL and the included relationships are passed
to every `write` call, so cached plans cannot carry one response into another."""

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from string import Formatter
from typing import Any

import marshmallow as ma
from marshmallow_jsonapi import fields as library_fields

from schemas.base import Relationship, ResourceSchema, Timestamp

from .timestamps import format_timestamp

_MISSING = object()
_NOTHING: dict = {}


def _read(obj: Any, loaded: dict, attribute: str) -> Any:
    """The attribute's value, or _MISSING. A column the ORM has loaded (and any value a plain
    object holds) sits in the instance's __dict__, where reading it skips the instrumented
    descriptor, a third of the writer's time; properties and anything not loaded are read
    the ordinary way."""
    value = loaded.get(attribute, _MISSING)
    return getattr(obj, attribute, _MISSING) if value is _MISSING else value


def _text(value: Any) -> Any:
    return None if value is None else str(value)


def _boolean(field: ma.fields.Boolean) -> Callable[[Any], Any]:
    def write(value: Any) -> Any:
        return None if value is None else field._serialize(value, None, None)

    return write


def _integer(value: Any) -> Any:
    return None if value is None else int(value)


def _identity(value: Any) -> Any:
    return value


def _direct_writer(field: ma.fields.Field) -> Callable[[Any], Any] | None:
    """A function of the attribute's value that equals `field.serialize`, for the field
    classes whose serialization is exactly that simple; None for every other field."""
    kind = type(field)
    if kind in (ma.fields.String, ma.fields.Email, library_fields.String):
        return _text
    if kind is Timestamp:
        return format_timestamp
    if kind is ma.fields.Boolean:
        return _boolean(field)
    if kind is ma.fields.Integer and not field.as_string and not field.strict:
        return _integer
    if kind is ma.fields.Raw:
        return _identity
    return None


def _path_template(template: str) -> tuple[tuple[str, str | None], ...]:
    """`/users/{id}/x` -> (("/users/", "id"), ("/x", None)): literal text, then an attribute."""
    return tuple((literal, name) for literal, name, _spec, _conv in Formatter().parse(template))


class ResourcePlan:
    """How to write resource objects of one schema class with one set of dump fields."""

    def __init__(self, schema: ResourceSchema):
        self.type_ = schema.opts.type_
        self.path = _path_template(schema.opts.self_path) if schema.opts.self_path else None
        self.id_attribute = "id"
        self.attributes: list[tuple[str, str, Callable | None, ma.fields.Field]] = []
        # (member, field name, link name, related type, links?, to-many?, source), the source
        # being the foreign-key column of a to-one, the loaded list of a to-many
        self.relationships: list[tuple[str, str, str, str, bool, bool, str]] = []
        for name, field in schema.dump_fields.items():
            attribute = field.attribute or name
            if name == "id":
                self.id_attribute = attribute
            elif isinstance(field, Relationship):
                source = (
                    attribute if field.many else field.id_attribute or f"{field.model_attribute}_id"
                )
                self.relationships.append(
                    (
                        schema.inflect(name),
                        name,
                        field.data_key or field.name,
                        field.type_,
                        field.with_links and self.path is not None,
                        field.many,
                        source,
                    )
                )
            elif isinstance(field, library_fields.BaseRelationship):
                raise TypeError(f"{name}: relationships are declared with schemas.base")
            else:
                member = schema.inflect(field.data_key or name)
                self.attributes.append((member, attribute, _direct_writer(field), field))

    def resource_path(self, obj: Any, loaded: dict, id_text: str) -> str | None:
        if self.path is None:
            return None
        parts = []
        for literal, name in self.path:
            parts.append(literal)
            if name == self.id_attribute:
                parts.append(id_text)  # already written once (UUIDs are slow to write)
            elif name is not None:
                parts.append(str(_read(obj, loaded, name)))
        return "".join(parts)

    def write(
        self, objects: Iterable[Any], base_url: str, included_relationships: frozenset[str]
    ) -> list[dict]:
        written = []
        type_ = self.type_
        for obj in objects:
            loaded = getattr(obj, "__dict__", _NOTHING)
            id_text = str(_read(obj, loaded, self.id_attribute))
            resource: dict[str, Any] = {"type": type_, "id": id_text}
            attributes = {}
            for member, attribute, direct, field in self.attributes:
                value = _read(obj, loaded, attribute)
                if value is _MISSING:
                    continue  # marshmallow leaves out what the object does not have
                attributes[member] = (
                    direct(value) if direct is not None else field.serialize(attribute, obj)
                )
            if attributes:
                resource["attributes"] = attributes
            path = self.resource_path(obj, loaded, id_text)
            url = None if path is None else base_url + path
            relationships = {}
            for member, name, link_name, related_type, linked, many, source in self.relationships:
                relationship: dict[str, Any] = {}
                if linked:
                    relationship["links"] = {
                        "self": f"{url}/relationships/{link_name}",
                        "related": f"{url}/{link_name}",
                    }
                if not many:
                    related_id = _read(obj, loaded, source)
                    relationship["data"] = (
                        None
                        if related_id is None
                        else {"type": related_type, "id": str(related_id)}
                    )
                elif name in included_relationships:
                    relationship["data"] = [
                        {"type": related_type, "id": str(item.id)}
                        for item in getattr(obj, source) or []
                    ]
                if relationship:
                    relationships[member] = relationship
            if relationships:
                resource["relationships"] = relationships
            if url is not None:
                resource["links"] = {"self": url}
            written.append(resource)
        return written


@lru_cache(maxsize=512)  # sparse fieldsets come from clients: the cache is bounded
def resource_plan(schema_class: type[ResourceSchema], only: frozenset[str] | None) -> ResourcePlan:
    return ResourcePlan(schema_class(only=only))


def write_resources(
    schema_class: type[ResourceSchema],
    objects: Sequence[Any],
    *,
    base_url: str,
    only: frozenset[str] | None = None,
    included_relationships: frozenset[str] = frozenset(),
) -> list[dict]:
    """Resource objects for `objects`, as `schema_class(only=only).dump(objects)` would write
    them (with the links the schema's path template gives, below `base_url`)."""
    return resource_plan(schema_class, only).write(objects, base_url, included_relationships)
