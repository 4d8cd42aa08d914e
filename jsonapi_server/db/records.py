"""Rows read as plain records, the one form every document is written from: the model's
columns and properties without the ORM's identity map, state and instrumentation (a document
only reads; nothing in a session knows a record, and none is written back)."""

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache, partial
from types import MappingProxyType
from typing import Any

from sqlalchemy import (
    ARRAY,
    Column,
    DateTime,
    Select,
    Text,
    TypeDecorator,
    Uuid,
    any_,
    bindparam,
    cast,
    select,
)
from sqlalchemy import inspect as inspect_mapper
from sqlalchemy.engine import Connection
from sqlalchemy.orm import MANYTOONE, Mapper, RelationshipProperty, aliased
from sqlalchemy.types import TypeEngine

from jsonapi_server.extensions import db
from jsonapi_server.models.base import HIDDEN, UTCDateTime

from .connections import read_connection
from .cursor_reads import all_rows
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
    namespace["__model__"] = model  # a document of it finds its schema by this (api.resources)
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
    positions and names are constants of its code (no loop over the layout per row). The
    source is made only of the models' column names, never of a client's input."""
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


def _id_key(model: type) -> str:
    mapper: Mapper[Any] = inspect_mapper(model)
    return mapper.get_property_by_column(mapper.primary_key[0]).key


def _held(entity: Any, model: type, key: str) -> Any:
    """The column as a record holds it: cast to text for a uuid or timestamptz."""
    held_as = record_text_columns(model).get(key)
    column = getattr(entity, key)
    return column if held_as is None else cast(column, _HeldAsText(held_as))


class RecordReader:
    """Reads a model's rows, with the given relationship paths included, as records: to-one
    steps outer-joined into the statement, each to-many step one statement more for all its
    parents at once (_Step), attached to each parent as a list. A record holds the model's
    columns but the hidden ones (models.base.HIDDEN) and its properties (an invite's
    `status`). Its `uuid` and `timestamptz` columns are held as the text PostgreSQL sent
    (the statement casts them) and typed only when read: psycopg2 would call a Python
    function for every such value, and the writer writes most of them out as text again
    (jsonapi.writer, RECORD_TEXT_COLUMNS). `entity` (an alias) and `leading` columns serve a
    _Step's statement."""

    def __init__(
        self, model: type, include_paths: Sequence[str], *, entity: Any = None, leading=()
    ):
        self.columns: list[Any] = list(leading)
        self.joins: list[tuple[Any, Any]] = []
        self.steps: list[_Step] = []
        self.layout = self._plan(model if entity is None else entity, model, include_paths, ())
        self._build = _compile_builder(self.layout)

    def _plan(self, entity: Any, model: type, paths: Sequence[str], route: tuple) -> _Layout:
        mapper: Mapper[Any] = inspect_mapper(model)
        keys = record_columns(model)
        start = len(self.columns)
        self.columns.extend(_held(entity, model, key) for key in keys)
        below: dict[str, list[str]] = {}  # first step -> the rest of each path through it
        for path in paths:
            name, _, rest = path.partition(".")
            below.setdefault(name, []).extend([rest] if rest else [])
        children = []
        for name, rests in below.items():
            relationship = mapper.relationships[name]
            if relationship.direction is not MANYTOONE:  # joining it would multiply the rows
                self.steps.append(_Step(model, name, rests, route))
                continue
            target = relationship.mapper.class_
            alias = aliased(target)
            self.joins.append((alias, getattr(entity, name).of_type(alias)))
            children.append((name, self._plan(alias, target, rests, (*route, name))))
        return _Layout(
            record_class(model), start, keys, start + keys.index(_id_key(model)), tuple(children)
        )

    def select(self, statement: Select) -> Select:
        """`statement` (which selects the model) selecting the columns records are made of."""
        return self.joined(statement.with_only_columns(*self.columns))

    def joined(self, statement: Select) -> Select:
        for alias, onclause in self.joins:
            statement = statement.outerjoin(alias, onclause)
        return statement

    def records(self, rows: Sequence[Sequence[Any]], connection: Connection | None = None):
        """The records of `rows`, with their to-many includes read (on `connection`, by
        default the request's read connection)."""
        build = self._build
        records = [build(row) for row in rows]
        if self.steps and records:
            connection = connection or read_connection()
            for step in self.steps:
                step.load(connection, records)
        return records


class _Step:
    """A to-many relationship of the records at `route` (to-one names from a statement's own
    records), read for all of them by one statement: the related rows joined from their
    parents through the relationship (its secondary table and conditions), in its order,
    each with its parent's key first. The parents' keys are one array parameter on
    PostgreSQL, so the statement is one whatever their number (kept, and prepared)."""

    def __init__(self, parent_model: type, name: str, paths: Sequence[str], route: tuple):
        relationship: RelationshipProperty[Any] = inspect_mapper(parent_model).relationships[name]
        target = relationship.mapper
        parent: Any = aliased(parent_model)
        child: Any = aliased(target.class_)
        self.name, self.route, self.many = name, route, relationship.uselist
        self.key = _id_key(parent_model)
        self.key_is_text = self.key in record_text_columns(parent_model)
        self.reader = RecordReader(
            target.class_, paths, entity=child, leading=(_held(parent, parent_model, self.key),)
        )
        order = [
            getattr(child, target.get_property_by_column(column).key)
            for column in relationship.order_by or ()
        ]
        self._joined = self.reader.joined(
            select(*self.reader.columns)
            .select_from(parent)
            .join(getattr(parent, name).of_type(child))
        ).order_by(*order)
        self._parent_key = getattr(parent, self.key)
        self._key_type: TypeEngine[Any] = inspect_mapper(parent_model).columns[self.key].type
        self._statements: dict[bool, Select] = {}

    def statement(self, postgresql: bool) -> Select:
        """Built once per form: `= ANY(array)` on PostgreSQL, an IN list elsewhere (SQLite)."""
        built = self._statements.get(postgresql)
        if built is None:
            if postgresql:
                if self.key_is_text:  # the records' texts, cast as one array
                    keys = cast(_bound_keys(ARRAY(Text)), ARRAY(self._key_type, as_tuple=False))
                else:
                    keys = _bound_keys(ARRAY(self._key_type))
                condition = self._parent_key == any_(keys)
            else:
                condition = self._parent_key.in_(_bound_keys(None, expanding=True))
            built = self._statements[postgresql] = self._joined.where(condition)
        return built

    def load(self, connection: Connection, records: Sequence[Any]) -> None:
        parents = records
        for name in self.route:
            parents = [
                nested for parent in parents if (nested := parent.__dict__[name]) is not None
            ]
        if not parents:
            return
        key = self.key
        first: dict[Any, Any] = {}  # each parent's key asked for once
        for parent in parents:
            first.setdefault(parent.__dict__[key], parent)
        postgresql = connection.dialect.name == "postgresql"
        if self.key_is_text and not postgresql:
            values = [getattr(parent, key) for parent in first.values()]  # typed, for its IN
        else:
            values = list(first)
        rows = all_rows(connection, self.statement(postgresql), {"parent_keys": values})
        related: dict[Any, list] = {}
        for row, record in zip(rows, self.reader.records(rows, connection), strict=True):
            related.setdefault(row[0], []).append(record)
        name = self.name
        for parent in parents:
            found = related.get(parent.__dict__[key])
            if self.many:
                parent.__dict__[name] = found or []
            else:
                parent.__dict__[name] = found[0] if found else None


def _bound_keys(type_: Any, *, expanding: bool = False) -> Any:
    return bindparam("parent_keys", type_=type_, expanding=expanding)


@lru_cache(maxsize=256)  # include paths come from clients (checked against the schema)
def record_reader(model: type, include_paths: tuple[str, ...]) -> RecordReader:
    return RecordReader(model, include_paths)


def record_of(instance: Any) -> Any:
    """The record of an ORM instance a write holds (its values, held as a record holds
    them), for a document to show it without reading the row again."""
    model: Any = type(instance)  # a mapped class (the caches take it as their key)
    text_columns = record_text_columns(model)
    values = {}
    for key in record_columns(model):
        value = getattr(instance, key)
        if value is not None and key in text_columns:
            value = str(value) if text_columns[key] == "uuid" else value.isoformat(sep=" ")
        values[key] = value
    record: Any = object.__new__(record_class(model))
    record.__dict__ = values
    return record
