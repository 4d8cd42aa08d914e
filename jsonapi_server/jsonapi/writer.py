"""Resource objects written from a plan compiled once per schema class and sparse fieldset,
read off the marshmallow-jsonapi schema (which stays the one description of every type) and
proved equal to its `Schema.dump` by tests/test_writer.py."""

from collections.abc import Callable, Collection, Sequence
from functools import lru_cache
from string import Formatter
from typing import Any

import marshmallow as ma
from marshmallow_jsonapi import fields as library_fields

from jsonapi_server.times import format_timestamp, format_timestamp_text

from .fields import Boolean, Relationship, Timestamp
from .schema import ResourceSchema

_MISSING = object()
# A class with this attribute (a set of names) promises that each of its instances holds every
# one of those names in its __dict__: plain records of rows (db.records) do.
RECORD_COLUMNS = "__record_columns__"
# Those held as PostgreSQL's text of their type (name -> "uuid", the text str() writes, or
# "timestamptz", `2021-11-23 14:38:03.25+00`), typed by their attributes: written from the text.
RECORD_TEXT_COLUMNS = "__record_text_columns__"


def _text(value: Any) -> Any:
    return None if value is None else str(value)


# The writers that write a value from a record's text of it: str() writes a uuid's text as is,
# and a timestamptz's has its own (format_timestamp_text).
_WRITES_FROM_TEXT: dict[object, str] = {_text: "uuid", format_timestamp: "timestamptz"}


def _boolean(field: ma.fields.Field) -> Callable[[Any], Any]:
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
    if kind in (ma.fields.Boolean, Boolean):  # ours differs in loading only
        return _boolean(field)
    if type(field) is ma.fields.Integer and not field.as_string and not field.strict:
        return _integer
    if kind is ma.fields.Raw:
        return _identity
    return None


def _path_template(template: str) -> tuple[tuple[str, str | None], ...]:
    """`/users/{id}/x` -> (("/users/", "id"), ("/x", None)): literal text, then an attribute."""
    return tuple((literal, name) for literal, name, _spec, _conv in Formatter().parse(template))


class ResourcePlan:
    """How to write resource objects of one schema class and set of dump fields, read off a
    schema instance: plain fields directly, any other by its marshmallow field. It holds
    nothing of a request (base URL and includes come with each `write`), so a cached plan
    cannot carry one response into another."""

    def __init__(self, schema: ResourceSchema):
        self.type_ = schema.opts.type_
        self.path = _path_template(schema.opts.self_path) if schema.opts.self_path else None
        self.id_attribute = "id"
        self.attributes: list[tuple[str, str, Callable | None, ma.fields.Field]] = []
        # (member, field name, link name, related type, links?, to-many?, source, related
        # path), the source being the foreign-key column of a to-one, the loaded list of a
        # to-many; the related path the template of a to-one's one link, or None
        self.relationships: list[tuple[str, str, str, str, bool, bool, str, tuple | None]] = []
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
                        _path_template(field.related_path) if field.related_path else None,
                    )
                )
            elif isinstance(field, library_fields.BaseRelationship):
                raise TypeError(f"{name}: declare relationships with fields.Relationship")
            else:
                member = schema.inflect(field.data_key or name)
                self.attributes.append((member, attribute, _direct_writer(field), field))
        generic = self._compile(None)
        assert generic is not None  # only a record class can lack an attribute
        self._generic = generic
        self._for_records: dict[type, Callable] = {}

    def write(
        self, objects: Sequence[Any], base_url: str, included_relationships: frozenset[str]
    ) -> list[dict]:
        """Records (db.records) of one class are written by a function made for their class;
        any other objects (ORM instances a write returns, answers that are no row) the general
        way."""
        if objects:
            kind = type(objects[0])
            if getattr(kind, RECORD_COLUMNS, None) is not None and all(
                type(obj) is kind for obj in objects
            ):
                write = self._for_records.get(kind)
                if write is None:
                    write = self._for_records[kind] = self._compile(kind) or self._generic
                return write(objects, base_url, included_relationships)
        return self._generic(objects, base_url, included_relationships)

    def _compile(self, record_class: type | None) -> Callable | None:
        """`write(objects, base_url, included_relationships)` generated for this plan, its
        names and fields constants, so no loop over the plan or dispatch per field runs. For a
        record class it reads columns with no test for a missing one (None when the class lacks
        an attribute). The source holds only the schema's declarations (names as repr), never
        anything a client sent."""
        constants: dict[str, Any] = {
            "_MISSING": _MISSING,
            "format_timestamp": format_timestamp,
            "format_timestamp_text": format_timestamp_text,
        }

        def constant(value: Any) -> str:
            name = f"_c{len(constants)}"
            constants[name] = value
            return name

        columns: Collection[str] = getattr(record_class, RECORD_COLUMNS, frozenset())
        text_columns = getattr(record_class, RECORD_TEXT_COLUMNS, {})

        def read(attribute: str, into: str, *, text_of: str = "uuid") -> list[str]:
            """Lines that put the attribute's value, or _MISSING, into `into`; a column held as
            the text of `text_of` (what its value is written from), as that text."""
            if record_class is not None:
                if attribute in columns and text_columns.get(attribute, text_of) == text_of:
                    return [f"{into} = loaded[{attribute!r}]"]
                if not hasattr(record_class, attribute):
                    raise _NotForRecords(attribute)
                return [f"{into} = obj.{attribute}"]
            return [f"{into} = getattr(obj, {attribute!r}, _MISSING)"]

        def written(attribute: str, direct: Callable | None, field: ma.fields.Field) -> str:
            if direct is format_timestamp and text_columns.get(attribute) == "timestamptz":
                return "None if value is None else format_timestamp_text(value)"
            if direct is _text:
                return "None if value is None else str(value)"
            if direct is format_timestamp:
                return "None if value is None else format_timestamp(value)"
            if direct is _identity:
                return "value"
            if direct is not None:
                return f"{constant(direct)}(value)"
            return f"{constant(field)}.serialize({attribute!r}, obj)"

        def joined(template: tuple, prefix: str) -> tuple[list[str], str]:
            """Lines that read a path template's attributes into variables named from
            `prefix`, and the expression of the path they fill in."""
            lines, parts = [], []
            for literal, name in template:
                if literal:
                    parts.append(repr(literal))
                if name == self.id_attribute:
                    parts.append("id_text")
                elif name is not None:
                    lines += read(name, f"{prefix}{len(parts)}")
                    parts.append(f"str({prefix}{len(parts)})")
            return lines, " + ".join(parts)

        try:
            body = ["loaded = obj.__dict__"] if record_class is not None else []
            body += [
                *read(self.id_attribute, "value"),
                "id_text = str(value)",  # written once, for the id and the links (UUIDs are slow)
                "attributes = {}",
            ]
            for member, attribute, direct, field in self.attributes:
                body += read(attribute, "value", text_of=_WRITES_FROM_TEXT.get(direct, ""))
                value = written(attribute, direct, field)
                if record_class is None:
                    body.append("if value is not _MISSING:")  # marshmallow leaves it out
                    body.append(f"    attributes[{member!r}] = {value}")
                else:
                    body.append(f"attributes[{member!r}] = {value}")
            body.append(f"resource = {{'type': {self.type_!r}, 'id': id_text}}")
            body.append("if attributes:")
            body.append("    resource['attributes'] = attributes")
            if self.path is not None:
                lines, path = joined(self.path, "_p")
                body += [*lines, f"url = base_url + {path}"]
            body.append("relationships = {}")
            for index, relationship in enumerate(self.relationships):
                member, name, link_name, related_type, linked, many, source, related_path = (
                    relationship
                )
                entries = []
                if linked:
                    self_link = f"url + {f'/relationships/{link_name}'!r}"
                    related_link = f"url + {f'/{link_name}'!r}"
                    entries.append(f"'links': {{'self': {self_link}, 'related': {related_link}}}")
                if not many:
                    body += read(source, "related_id")
                    identifier = f"{{'type': {related_type!r}, 'id': str(related_id)}}"
                    if related_path is not None:  # its link only with data (read only then)
                        lines, path = joined(related_path, f"_r{index}_")
                        body.append("if related_id is None:")
                        body.append(f"    relationships[{member!r}] = {{'data': None}}")
                        body.append("else:")
                        body += [f"    {line}" for line in lines]
                        body.append(
                            f"    relationships[{member!r}] = "
                            f"{{'links': {{'related': base_url + {path}}}, 'data': {identifier}}}"
                        )
                        continue
                    entries.append(f"'data': None if related_id is None else {identifier}")
                if entries:
                    body.append(f"relationships[{member!r}] = {{{', '.join(entries)}}}")
                if many:
                    body.append(f"if {name!r} in included_relationships:")
                    body.append(
                        f"    relationships.setdefault({member!r}, {{}})['data'] = "
                        f"[{{'type': {related_type!r}, 'id': str(item.id)}} "
                        f"for item in getattr(obj, {source!r}) or []]"
                    )
        except _NotForRecords:
            return None
        body.append("if relationships:")
        body.append("    resource['relationships'] = relationships")
        if self.path is not None:
            body.append("resource['links'] = {'self': url}")
        body.append("append(resource)")
        source_code = "\n".join(
            [
                "def write(objects, base_url, included_relationships):",
                "    written = []",
                "    append = written.append",
                "    for obj in objects:",
                *(f"        {line}" for line in body),
                "    return written",
            ]
        )
        name = self.type_ if record_class is None else f"{self.type_} {record_class.__name__}"
        exec(compile(source_code, f"<writer {name}>", "exec"), constants)  # noqa: S102
        return constants["write"]


class _NotForRecords(Exception):
    """The plan reads an attribute a record class lacks: its objects take the general way."""


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
    # (mypy takes a class whose base is untyped, as marshmallow-jsonapi's is, for unhashable)
    plan = resource_plan(schema_class, only)  # type: ignore[arg-type]
    return plan.write(objects, base_url, included_relationships)
