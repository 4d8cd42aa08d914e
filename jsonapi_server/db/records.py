"""Rows read as plain records, the one form every document is written from: the model's
columns and properties without the ORM's identity map, state and instrumentation (a document
only reads; nothing in a session knows a record, and none is written back)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ARRAY, Select, Text, any_, bindparam, cast, select
from sqlalchemy import inspect as inspect_mapper
from sqlalchemy.engine import Connection
from sqlalchemy.orm import MANYTOONE, Mapper, RelationshipProperty, aliased
from sqlalchemy.types import TypeEngine

from .connections import read_connection
from .cursor_reads import all_rows
from .record_classes import HeldAsText, record_class, record_columns, record_text_columns


@dataclass(frozen=True)
class _Layout:
    """Where one entity's columns sit in a row, and its included relationships."""

    record_class: type
    start: int
    keys: tuple[str, ...]
    id_position: int
    children: tuple[tuple[str, "_Layout"], ...]


def _compile_builder(layout: _Layout) -> Callable[[Sequence[Any]], Any]:
    """`build(row)`: the record of `layout` and its includes, or None for an outer join that
    found nothing; generated code whose positions and names are constants (no loop over the
    layout per row), made only of the models' column names, never of a client's input."""
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
    return column if held_as is None else cast(column, HeldAsText(held_as))


class RecordReader:
    """Reads a model's rows, with the given relationship paths included, as records: to-one
    steps outer-joined into the statement, each to-many step one statement more (_Step). The
    `uuid` and `timestamptz` columns are cast to text and typed only when read: psycopg2 would
    call a Python function for every such value, and the writer writes most of them out as
    text again. `entity` (an alias) and `leading` columns serve a _Step's statement."""

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
    records), read for all of them by one statement, each related row with its parent's key
    first. The parents' keys are one array parameter on PostgreSQL, so the statement is one
    whatever their number (kept, and prepared)."""

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
