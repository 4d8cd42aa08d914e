"""Pooled connections: checked only after sitting idle, and for a request that only reads, one
connection of its own in driver autocommit (no BEGIN or ROLLBACK round trips)."""

import time
from contextlib import closing

from flask import Flask, g, has_app_context
from flask_sqlalchemy.session import Session
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine

from jsonapi_server.extensions import db

from . import prepared, typecasters

# `g` keys: whether this request only reads (set by the web layer), and its read connection.
_SERVES_A_READ = "jsonapi_server_serves_a_read"
_READ_CONNECTION = "jsonapi_server_read_connection"
_CHECKED_IN_AT = "jsonapi_server_checked_in_at"


def init_app(app: Flask) -> None:
    """Binds the database to `app` with the data-access layer's connection handling."""
    # Before db.init_app: app-context teardowns run last-registered first, and the request's
    # read connection must outlive the session that may have worked on it.
    app.teardown_appcontext(return_read_connection)
    db.session.session_factory.class_ = RequestSession
    db.init_app(app)
    with app.app_context():
        engine = db.engine
        ping_when_idle(engine, app.config["DATABASE_PING_AFTER_IDLE_SECONDS"])
        if engine.dialect.name == "postgresql":
            autocommit_reads(engine)
            typecasters.register_typecasters(engine)
            if app.config["DATABASE_PREPARED_STATEMENTS"]:
                prepared.prepare_repeated_reads(engine)


def serve_reads_only() -> None:
    """This request only reads (the web layer says so for GET and HEAD): its statements run in
    autocommit, each its own transaction. Under READ COMMITTED every statement takes its own
    snapshot either way; whatever must be consistent is one statement (a page and its count)."""
    setattr(g, _SERVES_A_READ, True)


def serves_reads_only() -> bool:
    return has_app_context() and g.get(_SERVES_A_READ, False)


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """A connection in steady use has just proved itself; only one idle for `idle_seconds` is
    checked (`SELECT 1`) before use, not every checkout as pool_pre_ping would."""

    @event.listens_for(engine, "checkin")
    def remember_last_use(_dbapi_connection, record) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record, _proxy) -> None:
        last_use = record.info.get(_CHECKED_IN_AT)
        if last_use is not None and time.monotonic() - last_use < idle_seconds:
            return
        try:
            with closing(dbapi_connection.cursor()) as cursor:  # sqlite3's is no context manager
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out another (three attempts).
            raise exc.DisconnectionError() from error


def read_connection() -> Connection:
    """The connection reads run on: in a request that only reads, its own (checked out on first
    use, returned at its end), which skips the ORM session's setup and teardown; otherwise the
    session's, so that a write's reads see its writes."""
    if not serves_reads_only():
        return db.session.connection()
    held = g.get(_READ_CONNECTION)
    if held is None:
        if db.session.registry.has() and db.session().in_transaction():
            return db.session.connection()  # the session came first: read on its connection
        held = db.engine.connect()
        setattr(g, _READ_CONNECTION, held)
    return held


def return_read_connection(_error: BaseException | None = None) -> None:
    """The request's read connection goes back to the pool."""
    connection = g.pop(_READ_CONNECTION, None)
    if connection is not None:
        connection.close()


def autocommit_reads(engine: Engine) -> None:
    """On checkout, a read-only request's connection is put in driver autocommit, and any
    other's taken out of it (psycopg2 sets this on the client: no round trip)."""

    @event.listens_for(engine, "checkout")
    def autocommit_if_reading(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.autocommit = serves_reads_only()


class RequestSession(Session):
    """The ORM session; in a read-only request it works on the request's read connection."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and has_app_context():
            held = g.get(_READ_CONNECTION)
            if held is not None:
                return held
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
