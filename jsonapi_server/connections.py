"""Pooled database connections are checked (`SELECT 1`) before use only when they have sat
idle for a while: a connection in steady use has just proved itself, and checking it on every
request (SQLAlchemy's pool_pre_ping) costs every request a round trip to the database.

A connection that dies while in steady use (the server restarted under load) fails the one
request that meets it; SQLAlchemy then recognizes the disconnect and replaces the whole pool."""

import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

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
