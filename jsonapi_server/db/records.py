"""Listed rows read as plain records instead of ORM instances.

A listing whose included relationships are all to-one reads the model's columns and those of
every included relationship (outer-joined into the same statement) as plain rows, and turns
each into a record: an object holding the column values and the model's own properties and
methods (an invite's `status`), with the included relationships as records of their own.
Loading ORM instances costs twice what the rows do (identity map, instance state, attribute
instrumentation), and a listing only reads. Records are never written back: nothing in a
session knows them. Columns no document shows (models.base.HIDDEN: a password hash) are
neither read nor held.

A record holds its `uuid` and `timestamptz` columns as the text PostgreSQL writes for them
(the statement casts them to text) and makes the typed value (connections.StoredUUID, an
aware datetime) only when the attribute is read. psycopg2 calls a Python function for every
value of those types, NULLs included, to make the typed one: a page of 25 invites and their
users made 375 such calls, and its document writes most of those values out as text again
(jsonapi.writer reads the text; RECORD_TEXT_COLUMNS). Text, psycopg2 reads in C."""

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache, partial
from types import MappingProxyType
from typing import Any

from sqlalchemy import Column, DateTime, Select, Text, TypeDecorator, Uuid, cast
from sqlalchemy import inspect as inspect_mapper
from sqlalchemy.orm import Mapper, aliased
from sqlalchemy.types import TypeEngine

from jsonapi_server.extensions import db
from jsonapi_server.models.base import HIDDEN, UTCDateTime

from .typecasters import timestamp_from_text, uuid_from_text


@cache
def record_columns(model: type) -> tuple[str, ...]:
    """The model's column attributes, but those marked hidden (models.base.HIDDEN)."""
    mapper: Mapper[Any] = inspect_mapper(model)
    return tuple(
        prop.key
        for prop in mapper.column_attrs
        if not any(
            isinstance(column, Column) and column.info.get(HIDDEN) for column in prop.columns
        )
    )


@cache
def record_text_columns(model: type) -> Mapping[str, str]:
    """The record's columns held as text, by the PostgreSQL type whose text it is."""
    held: dict[str, str] = {}
    mapper: Mapper[Any] = inspect_mapper(model)
    for key in record_columns(model):
        column_type = mapper.columns[key].type
        if isinstance(column_type, TypeDecorator):
            column_type = column_type.impl_instance  # the type the database holds
        if isinstance(column_type, Uuid):
            held[key] = "uuid"
        elif isinstance(column_type, DateTime) and column_type.timezone:
            held[key] = "timestamptz"
    return MappingProxyType(held)


_TYPED_BY = {"uuid": uuid_from_text, "timestamptz": timestamp_from_text}


class _HeldAsText(TypeDecorator):
    """The type of a uuid or timestamptz column cast to text. PostgreSQL sends the text itself;
    another database (SQLite, in development) sends what its column type stores, which is read
    as that type reads it and written as text (ISO 8601 for a time), as records hold it."""

    impl = Text
    cache_ok = True

    def __init__(self, database_type: str):
        super().__init__()
        self.database_type = database_type

    def result_processor(self, dialect, coltype):
        if dialect.name == "postgresql":
            return None
        column_type: TypeEngine[Any]
        write: Callable[[Any], str]
        if self.database_type == "uuid":
            column_type, write = Uuid(), str
        else:
            column_type, write = UTCDateTime(), partial(datetime.isoformat, sep=" ")
        read = column_type.dialect_impl(dialect).result_processor(dialect, coltype)

        def process(value: Any) -> str | None:
            if value is None:
                return None
            if read is not None:
                value = read(value)
            return write(value)

        return process


class _TypedOnAccess:
    """A column the record holds as text (in its __dict__, where the document writer reads
    it), read as an attribute as its typed value."""

    __slots__ = ("name", "type_text")

    def __init__(self, name: str, type_text: Callable[[str], Any]):
        self.name = name
        self.type_text = type_text

    def __get__(self, record: Any, owner: type | None = None) -> Any:
        if record is None:
            return self
        text = record.__dict__[self.name]
        return None if text is None else self.type_text(text)

    def __set__(self, record: Any, value: Any) -> None:  # a data descriptor: __dict__ is text
        raise AttributeError(f"{self.name}: a record is read, never written")


@cache  # one per model class
def record_class(model: type) -> type:
    """A plain class with the model's own properties and public methods (those it and its
    mixins define, not the ORM's), so a record answers what the model's instances answer."""
    namespace: dict[str, Any] = {}
    for klass in reversed(model.__mro__):
        if klass in db.Model.__mro__:
            continue
        for name, value in vars(klass).items():
            if isinstance(value, property) or (
                inspect.isfunction(value) and not name.startswith("_")
            ):
                namespace[name] = value
    namespace["__repr__"] = lambda self: f"<{model.__name__} {self.__dict__.get('id')}>"
    # Every record holds every column but the hidden ones (its builder sets them all): the
    # document writer reads them without testing for a missing one (jsonapi.writer.RECORD_COLUMNS).
    namespace["__record_columns__"] = frozenset(record_columns(model))
    text_columns = record_text_columns(model)
    namespace["__record_text_columns__"] = text_columns  # jsonapi.writer reads it
    for key, database_type in text_columns.items():
        namespace[key] = _TypedOnAccess(key, _TYPED_BY[database_type])
    return type(f"{model.__name__}Record", (), namespace)


@dataclass(frozen=True)
class _Layout:
    """Where one entity's columns sit in a row, and its included relationships."""

    record_class: type
    start: int
    keys: tuple[str, ...]
    id_position: int
    children: tuple[tuple[str, "_Layout"], ...]


def _compile_builder(layout: _Layout) -> Callable[[Sequence[Any]], Any]:
    """`build(row)`: the record of `layout` (with its included relationships' records), or
    None for an outer join that found nothing; one function generated for the layout, whose
    positions and names are constants of its code (a loop over the layout per row cost 40 %
    more). The source is made only of the models' column names, never of a client's input."""
    constants: dict[str, Any] = {"new": object.__new__}
    lines: list[str] = []

    def define(node: _Layout) -> str:
        children = {name: define(child) for name, child in node.children}
        number = len(constants)
        constants[f"record_class_{number}"] = node.record_class
        values = [f"{key!r}: row[{node.start + offset}]" for offset, key in enumerate(node.keys)]
        values += [f"{name!r}: {function}(row)" for name, function in children.items()]
        lines.extend(
            [
                f"def build_{number}(row):",
                f"    if row[{node.id_position}] is None:",
                "        return None",
                f"    record = new(record_class_{number})",
                f"    record.__dict__ = {{{', '.join(values)}}}",
                "    return record",
            ]
        )
        return f"build_{number}"

    top = define(layout)
    name = layout.record_class.__name__
    exec(compile("\n".join(lines), f"<records {name}>", "exec"), constants)  # noqa: S102
    return constants[top]


class RecordReader:
    """Reads a model's rows, with the given to-one relationship paths joined, as records."""

    def __init__(self, model: type, include_paths: Sequence[str]):
        self.columns: list[Any] = []
        self.joins: list[tuple[Any, Any]] = []
        self.layout = self._plan(model, model, include_paths)
        self._build = _compile_builder(self.layout)

    def _plan(self, entity: Any, model: type, paths: Sequence[str]) -> _Layout:
        mapper: Mapper[Any] = inspect_mapper(model)
        keys = record_columns(model)
        start = len(self.columns)
        text_columns = record_text_columns(model)
        self.columns.extend(
            cast(getattr(entity, key), _HeldAsText(text_columns[key]))
            if key in text_columns
            else getattr(entity, key)
            for key in keys
        )
        id_key = mapper.get_property_by_column(mapper.primary_key[0]).key
        below: dict[str, list[str]] = {}  # first step -> the rest of each path through it
        for path in paths:
            name, _, rest = path.partition(".")
            below.setdefault(name, []).extend([rest] if rest else [])
        children = []
        for name, rests in below.items():
            target = mapper.relationships[name].mapper.class_
            alias = aliased(target)
            self.joins.append((alias, getattr(entity, name).of_type(alias)))
            children.append((name, self._plan(alias, target, rests)))
        return _Layout(
            record_class(model), start, keys, start + keys.index(id_key), tuple(children)
        )

    def select(self, statement: Select) -> Select:
        """`statement` (which selects the model) selecting the columns records are made of."""
        statement = statement.with_only_columns(*self.columns)
        for alias, onclause in self.joins:
            statement = statement.outerjoin(alias, onclause)
        return statement

    def records(self, rows: Sequence[Sequence[Any]]) -> list[Any]:
        build = self._build
        return [build(row) for row in rows]


@lru_cache(maxsize=256)  # include paths come from clients (checked against the schema)
def record_reader(model: type, include_paths: tuple[str, ...]) -> RecordReader:
    return RecordReader(model, include_paths)
