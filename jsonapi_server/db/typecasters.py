"""PostgreSQL's uuid and timestamptz values as this service reads them: ids keep the text the
server sent (documents write every id as text), and equal texts give the same object."""

import builtins
import uuid
from datetime import datetime
from typing import Any

import psycopg2.extensions
import psycopg2.extras
from sqlalchemy import event
from sqlalchemy.engine import Engine


class StoredUUID(uuid.UUID):
    """A UUID read from PostgreSQL, keeping the text it arrived as (the canonical form, as
    `str(UUID)` writes it): documents write every id as text, so the number is worked out only
    when compared or hashed. It equals, hashes and binds as the `uuid.UUID` of the same value;
    copies and pickles are plain UUIDs."""

    __slots__ = ("_number", "_text")
    _number: builtins.int
    _text: str
    # typeshed marks uuid.UUID's two slots Final, as they are to its users; a subclass gives
    # them values of its own (tests/test_stored_uuids.py holds it to uuid.UUID's behaviour).
    is_safe = uuid.SafeUUID.unknown  # type: ignore[misc]

    @property  # type: ignore[misc]
    def int(self) -> builtins.int:  # uuid.UUID's own name for the number
        try:
            return self._number
        except AttributeError:
            number = int(self._text.replace("-", ""), 16)
            object.__setattr__(self, "_number", number)
            return number

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"UUID('{self._text}')"

    def __reduce__(self):
        return uuid.UUID, (self._text,)


# The slot's own setter: uuid.UUID refuses attribute assignment, and going around that with
# object.__setattr__ made typecasting an id much dearer, and every row holds ids.
_set_stored_text = vars(StoredUUID)["_text"].__set__


class _ReadBefore(dict):
    """Values already read, by the text PostgreSQL sent (of which they are a pure function: a
    timestamp's text carries its offset), so the same text gives the same immutable object: a
    row's times repeat, so do the next request's rows, and the object has worked out its hash
    already (format_timestamp's cache, comparing UUIDs). Emptied when full; threads may share
    it, each dict operation being atomic."""

    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def keep(self, text: str, value: Any) -> Any:
        if len(self) >= self.limit:
            self.clear()
        self[text] = value
        return value


_uuids_read = _ReadBefore(16384)
_timestamps_read = _ReadBefore(16384)
# Bound once: looking `get` up on the subclass for every value read adds up over a page.
_uuid_read_before = _uuids_read.get
_timestamp_read_before = _timestamps_read.get


def uuid_from_text(text: str) -> StoredUUID:
    """The StoredUUID of a uuid's text as PostgreSQL writes it (the same object for the same
    text, while remembered)."""
    value = _uuid_read_before(text)
    if value is None:
        value = object.__new__(StoredUUID)
        _set_stored_text(value, text)
        _uuids_read.keep(text, value)
    return value


def timestamp_from_text(text: str) -> datetime:
    """The aware datetime of a timestamptz's text by `datetime.fromisoformat` (which reads
    PostgreSQL's form, and gives the UTC singleton for `+00`), the same object for the same
    text while remembered. Raises ValueError for BC dates and infinity, never written here."""
    value = _timestamp_read_before(text)
    if value is None:
        value = _timestamps_read.keep(text, datetime.fromisoformat(text))
    return value


def _stored_uuid(text: str | None, _cursor) -> StoredUUID | None:
    if text is None:
        return None
    return _uuid_read_before(text) or uuid_from_text(text)


def _timestamp_with_zone(text: str | None, cursor) -> datetime | None:
    """`timestamptz` by timestamp_from_text: cheaper than psycopg2's own, which builds each
    datetime through keyword parsing. What it cannot read goes to psycopg2's."""
    if text is None:
        return None
    value = _timestamp_read_before(text)
    if value is None:
        try:
            value = timestamp_from_text(text)
        except ValueError:
            return psycopg2.extensions.PYDATETIMETZ(text, cursor)
    return value


def register_typecasters(engine: Engine) -> None:
    """`uuid` columns (and arrays of them) read as StoredUUID, `timestamptz` ones by
    _timestamp_with_zone: these replace SQLAlchemy's, whose dialect listener runs first."""
    psycopg2.extensions.register_adapter(StoredUUID, psycopg2.extras.UUID_adapter)  # as UUID
    # (psycopg2's stubs let a typecaster be given bytes: on Python 3 it is given text, always.)
    uuid_type = psycopg2.extensions.new_type((2950,), "UUID", _stored_uuid)  # type: ignore[arg-type]
    uuid_array = psycopg2.extensions.new_array_type((2951,), "UUID[]", uuid_type)
    timestamp_type = psycopg2.extensions.new_type((1184,), "TIMESTAMPTZ", _timestamp_with_zone)  # type: ignore[arg-type]

    @event.listens_for(engine, "connect")
    def register(dbapi_connection, _record) -> None:
        for typecaster in (uuid_type, uuid_array, timestamp_type):
            psycopg2.extensions.register_type(typecaster, dbapi_connection)
