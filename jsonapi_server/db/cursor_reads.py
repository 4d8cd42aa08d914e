"""Statements built once and kept (module constants, listing shapes), read straight on the
driver's cursor: compiled once, they skip the execution context, result and row objects that
SQLAlchemy sets up for every statement, even one it has cached."""

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from . import prepared
from .sqlalchemy_internals import (
    bind_processors,
    handle_driver_error,
    has_event_listeners,
    listens_to_executions,
    result_column_types,
)

MAX_PLANS = 1024  # more than listing.MAX_SHAPES: every lasting statement fits


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
    """Every row, as `connection.execute(statement, parameters).all()` gives them, of a
    statement built once and kept (its compiled form is kept for it). Cursor event listeners
    (statement counts) are called as SQLAlchemy calls them, so a read runs the same way whether
    anything listens or not; a listener of whole executions sends it the ordinary way."""
    key = (statement, connection.dialect)  # an engine's own compiled form (apps may differ)
    plan = _PLANS.get(key, _UNPLANNED)
    if plan is _UNPLANNED:
        plan = _plan(key)
    events = has_event_listeners(connection)
    if plan is None or (events and listens_to_executions(connection)):
        return connection.execute(statement, parameters).all()
    pooled = connection.connection  # raises as SQLAlchemy would for a closed connection
    driver_connection = pooled.dbapi_connection
    assert driver_connection is not None  # a connection of a pool that is checked out has one
    if not (driver_connection.autocommit or connection.in_transaction()):
        # SQLAlchemy would begin a transaction first; let it.
        return connection.execute(statement, parameters).all()
    cursor = None
    sql = plan.sql
    values: Any = parameters
    try:
        values = filled = plan.compiled.construct_params(parameters, escape_names=False)
        for name, process in plan.bind_processors:
            if name in filled:
                filled[name] = process(filled[name])
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
        handle_driver_error(connection, error, sql, values, cursor)
    finally:
        if cursor is not None:
            cursor.close()


def _plan(key: tuple[Executable, Any]) -> _Plan | None:
    """The statement compiled for the driver, or None (the ordinary path, always) when it needs
    SQLAlchemy around the driver: SQL rewritten per execution (an expanding IN list), columns
    converted after the driver's own (result processors), execution options."""
    statement, dialect = key
    assert isinstance(statement, ClauseElement)  # an Executable that compiles: a SELECT
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
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
        plan = _Plan(compiled.string, compiled, tuple(bind_processors(compiled).items()))
    with _PLANS_LOCK:  # threaded workers: evicting iterates the dict
        _PLANS[key] = plan
        if len(_PLANS) > MAX_PLANS:
            _PLANS.pop(next(iter(_PLANS)))  # the oldest
    return plan


def _no_result_processors(compiled: SQLCompiler, dialect: Any) -> bool:
    """Every column arrives from the driver as SQLAlchemy would hand it over (a type whose
    conversion depends on what the driver reports, a numeric, cannot say: the ordinary path)."""
    try:
        return all(
            column_type.dialect_impl(dialect).result_processor(dialect, None) is None
            for column_type in result_column_types(compiled)
        )
    except Exception:  # any doubt means the ordinary path
        return False
