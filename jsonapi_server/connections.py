"""Pooled database connections: what a request's connection costs in round trips.

Connections are checked (`SELECT 1`) before use only when they have sat idle for a while: a
connection in steady use has just proved itself, and checking it on every request
(SQLAlchemy's pool_pre_ping) costs every request a round trip to the database. A connection
that dies while in steady use (the server restarted under load) fails the one request that
meets it; SQLAlchemy then recognizes the disconnect and replaces the whole pool.

Requests that only read (GET, HEAD) run with the driver in autocommit: each statement is its
own transaction, so the BEGIN before the first statement and the ROLLBACK after the last, two
of a read's five round trips, are not sent. Under READ COMMITTED, PostgreSQL's level and ours,
every statement takes its own snapshot either way, so reads see exactly what they saw before;
whatever must be consistent is one statement (a page and its count are).

PostgreSQL's `uuid` values are read as StoredUUID, which keeps the text the server sent: a
document writes every id as text, and parsing each into a number only to write it back out
was a tenth of a page's CPU."""

import time
import uuid
from datetime import datetime
from typing import Any

import psycopg2.extensions
import psycopg2.extras
from flask import has_request_context
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine

from .extensions import READ_CONNECTION, db
from .jsonapi.current import current_request, request_globals

READ_METHODS = frozenset({"GET", "HEAD"})

_CHECKED_IN_AT = "jsonapi_server_checked_in_at"


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    @event.listens_for(engine, "checkin")
    def remember_last_use(_dbapi_connection, record) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record, _proxy) -> None:
        last_use = record.info.get(_CHECKED_IN_AT)
        if last_use is not None and time.monotonic() - last_use < idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_connection.rollback()
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out another (three attempts).
            raise exc.DisconnectionError() from error


def read_connection() -> Connection:
    """The connection records are read on (services.records). In a GET or HEAD request, the
    request's own: checked out of the pool on first use and returned when the request ends,
    which skips the ORM session's setup and teardown (75 us of its 100 us); the session, if
    the request needs it too, works on the same connection (extensions.RequestSession).
    Otherwise the session's connection, so that a write request's reads see its writes."""
    if not has_request_context():
        return db.session.connection()
    globals_ = request_globals()
    held = globals_.get(READ_CONNECTION)
    if held is None:
        if current_request().method not in READ_METHODS:
            return db.session.connection()
        if db.session.registry.has() and db.session().in_transaction():
            return db.session.connection()  # the session came first: read on its connection
        bind = db.engine
        # An application bound to one connection (the tests' isolation does this) reads on it.
        held = (bind, False) if isinstance(bind, Connection) else (bind.connect(), True)
        setattr(globals_, READ_CONNECTION, held)
    return held[0]


def return_read_connection(_error: BaseException | None = None) -> None:
    """End of the app context: the request's read connection goes back to the pool (after the
    session is closed, which registering this before Flask-SQLAlchemy arranges)."""
    connection, owned = request_globals().pop(READ_CONNECTION, (None, False))
    if owned:
        connection.close()


def autocommit_reads(engine: Engine) -> None:
    """On checkout, the connection of a GET or HEAD request is put in driver autocommit, and
    any other's taken out of it (psycopg2 sets this on the client: no round trip)."""

    @event.listens_for(engine, "checkout")
    def autocommit_if_reading(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.autocommit = (
            has_request_context() and current_request().method in READ_METHODS
        )


class StoredUUID(uuid.UUID):
    """A UUID read from PostgreSQL, keeping the text it arrived as (PostgreSQL writes the
    canonical lower-case form, which is what `str(UUID)` writes). Documents write every id as
    text, and `uuid.UUID(text)` followed by `str()` costs ~5 us per id (a page of invites holds
    a hundred); here the number is worked out only when compared or hashed. It equals, hashes
    and binds as the `uuid.UUID` of the same value; copies and pickles are plain UUIDs."""

    __slots__ = ("_number", "_text")
    is_safe = uuid.SafeUUID.unknown

    @property
    def int(self) -> int:  # uuid.UUID's own name for the number
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
# object.__setattr__ took half of each id's typecasting (a page of invites reads 150 ids).
_set_stored_text = StoredUUID._text.__set__


class _ReadBefore(dict):
    """Values already read, by the text PostgreSQL sent for them (of which they are a pure
    function: a timestamp's text carries its offset), so that reading the same text again
    gives the same immutable object. A row's times repeat (created, updated, last sent), and
    so do the rows the next request reads; the same object has also worked out its hash
    already, which writing a timestamp (format_timestamp's cache) and comparing a UUID need.
    Bounded: emptied when full, which costs the next reads a parse each. Threads may share
    it: each dict operation is atomic."""

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
# Bound once: looking `get` up on the subclass each time cost a page 1 % (instructions).
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
    """The aware datetime of a timestamptz's text as PostgreSQL writes it, by
    `datetime.fromisoformat` (which reads that form, and gives the UTC singleton for `+00`);
    the same object for the same text, while remembered. Raises ValueError for what it cannot
    read (BC dates, infinity), which no timestamp the service writes is."""
    value = _timestamp_read_before(text)
    if value is None:
        value = _timestamps_read.keep(text, datetime.fromisoformat(text))
    return value


def _stored_uuid(text: str | None, _cursor) -> StoredUUID | None:
    if text is None:
        return None
    return _uuid_read_before(text) or uuid_from_text(text)


def _timestamp_with_zone(text: str | None, cursor) -> datetime | None:
    """`timestamptz` by timestamp_from_text: a sixth cheaper than psycopg2's own, which builds
    each datetime through keyword parsing. What it cannot read goes to psycopg2's."""
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
    """PostgreSQL `uuid` columns (and arrays of them) read as StoredUUID, and `timestamptz`
    ones by _timestamp_with_zone, replacing the typecasters SQLAlchemy registers (it runs
    first: dialect listeners are inserted ahead)."""
    psycopg2.extensions.register_adapter(StoredUUID, psycopg2.extras.UUID_adapter)  # as UUID
    uuid_type = psycopg2.extensions.new_type((2950,), "UUID", _stored_uuid)
    uuid_array = psycopg2.extensions.new_array_type((2951,), "UUID[]", uuid_type)
    timestamp_type = psycopg2.extensions.new_type((1184,), "TIMESTAMPTZ", _timestamp_with_zone)

    @event.listens_for(engine, "connect")
    def register(dbapi_connection, _record) -> None:
        for typecaster in (uuid_type, uuid_array, timestamp_type):
            psycopg2.extensions.register_type(typecaster, dbapi_connection)
