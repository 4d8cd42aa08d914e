"""What a record is: a plain class per model with its columns (held as the text PostgreSQL
sends for uuid and timestamptz, typed when read) and its properties, never written back."""

import inspect
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache, partial
from types import MappingProxyType
from typing import Any

from sqlalchemy import Column, DateTime, Text, TypeDecorator, Uuid
from sqlalchemy import inspect as inspect_mapper
from sqlalchemy.orm import Mapper

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
_TEXT_OF: dict[str, Callable[[Any], str]] = {  # as PostgreSQL writes them
    "uuid": str,
    "timestamptz": partial(datetime.isoformat, sep=" "),
}


class HeldAsText(TypeDecorator):
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
        column_type = Uuid() if self.database_type == "uuid" else UTCDateTime()
        read = column_type.dialect_impl(dialect).result_processor(dialect, coltype)
        write = _TEXT_OF[self.database_type]

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


def record_of(instance: Any) -> Any:
    """The record of an ORM instance a write holds (its values, held as a record holds
    them), for a document to show it without reading the row again."""
    model: Any = type(instance)  # a mapped class (the caches take it as their key)
    text_columns = record_text_columns(model)
    values = {}
    for key in record_columns(model):
        value = getattr(instance, key)
        if value is not None and key in text_columns:
            value = _TEXT_OF[text_columns[key]](value)
        values[key] = value
    record: Any = object.__new__(record_class(model))
    record.__dict__ = values
    return record
