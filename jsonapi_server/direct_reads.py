"""Reads of lasting statements run straight on the driver's cursor.

A statement built once and kept (a module constant, or a listing's statement of one shape:
services.listing) is compiled here once per engine (psycopg2's only); each read then fills
in its parameters, runs the SQL on the connection's cursor (as a prepared statement where
prepared.py would make it one) and returns the driver's rows, which are plain tuples.
SQLAlchemy's execution of a statement it has cached still looks the statement up by its
cache key, sets up an execution context and a result, and wraps every row: about 50 us per
statement (measured on a page of invites), an eighth of the instructions of a request for
one invite. Only what needs none of that comes here: a SELECT whose bound values need no
SQL rewriting (no expanding IN list) and whose columns need no conversion after the
driver's own (no result processors). Everything else takes the ordinary path. Listeners of
the engine's cursor events (statement counts) are called for each statement as SQLAlchemy's
execution calls them, with no execution context (which SQLAlchemy allows), so a read runs
the same way whether anything listens or not; only listeners of whole executions
(before_execute, after_execute), which expect SQLAlchemy's own, send it the ordinary way. A
driver error is handed to SQLAlchemy as its own execution would hand it, so it is wrapped,
and a lost connection invalidated, as before."""

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Connection

from . import prepared

MAX_PLANS = 1024  # more than services.listing.MAX_SHAPES: every lasting statement fits


@dataclass(frozen=True)
class _Plan:
    sql: str  # in the driver's %(name)s style
    compiled: Any  # SQLAlchemy's compiled form, which fills in parameters
    bind_processors: tuple[tuple[str, Any], ...]


# By statement (its identity) and dialect; None: the ordinary path, always.
_PLANS: dict[tuple[Executable, Any], _Plan | None] = {}
_PLANS_LOCK = threading.Lock()
_UNPLANNED: Any = object()


def all_rows(
    connection: Connection, statement: Executable, parameters: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """Every row of `statement` with `parameters`, as `connection.execute(...).all()` gives
    them (values by position). `statement` must be one built once and kept: its compiled
    form is kept for it."""
    key = (statement, connection.dialect)  # an engine's own compiled form (apps may differ)
    plan = _PLANS.get(key, _UNPLANNED)
    if plan is _UNPLANNED:
        plan = _plan(key)
    events = connection._has_events or connection.engine._has_events
    if plan is None or (
        events and (connection.dispatch.before_execute or connection.dispatch.after_execute)
    ):
        return connection.execute(statement, parameters).all()
    pooled = connection.connection  # raises as SQLAlchemy would for a closed connection
    driver_connection = pooled.dbapi_connection
    if not (driver_connection.autocommit or connection.in_transaction()):
        # SQLAlchemy would begin a transaction first; let it.
        return connection.execute(statement, parameters).all()
    cursor = None
    sql = plan.sql
    values: Mapping[str, Any] = parameters
    try:
        values = plan.compiled.construct_params(parameters, escape_names=False)
        for name, process in plan.bind_processors:
            if name in values:
                values[name] = process(values[name])
        cursor = pooled.cursor()
        if events:
            for listener in connection.dispatch.before_cursor_execute:
                sql, values = listener(connection, cursor, sql, values, None, False)
        statements = prepared.for_dialect(connection.dialect)
        if statements is None or not statements.execute(
            cursor, sql, values, plan.compiled, connection.info
        ):
            cursor.execute(sql, values)
        if events:
            connection.dispatch.after_cursor_execute(connection, cursor, sql, values, None, False)
        return cursor.fetchall()
    except Exception as error:
        # As SQLAlchemy's execution hands it on: a driver's error, or a value its type
        # refused, wrapped, and a lost connection invalidated. This raises.
        connection._handle_dbapi_exception(error, sql, values, cursor, None)
        raise
    finally:
        if cursor is not None:
            cursor.close()


def _plan(key: tuple[Executable, Any]) -> _Plan | None:
    statement, dialect = key
    compiled = statement.compile(dialect=dialect)
    plan = None
    if (
        dialect.driver == "psycopg2"  # its named parameters and autocommit, as used here
        and compiled.string.startswith("SELECT")
        and not statement.get_execution_options()  # SQLAlchemy's to honour
        and not compiled.literal_execute_params
        and not compiled.post_compile_params
        and not compiled.escaped_bind_names
        and _no_result_processors(compiled, dialect)
    ):
        plan = _Plan(compiled.string, compiled, tuple(compiled._bind_processors.items()))
    with _PLANS_LOCK:  # threaded workers: evicting iterates the dict
        _PLANS[key] = plan
        if len(_PLANS) > MAX_PLANS:
            _PLANS.pop(next(iter(_PLANS)))  # the oldest
    return plan


def _no_result_processors(compiled: Any, dialect: Any) -> bool:
    """Every column arrives from the driver as SQLAlchemy would hand it over. A type whose
    conversion depends on what the driver reports (numerics) cannot say without it: such a
    statement takes the ordinary path."""
    try:
        return all(
            column.type._cached_result_processor(dialect, None) is None
            for column in compiled._result_columns
        )
    except Exception:  # any doubt means the ordinary path
        return False
