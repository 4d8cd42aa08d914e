"""Statements built once and kept (module constants, listing shapes), read straight on the
driver's cursor: compiled once, they skip the execution context, result and row objects that
SQLAlchemy sets up for every statement, even one it has cached."""

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Connection

from . import prepared

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
    """Every row of `statement` with `parameters`, as `connection.execute(...).all()` gives
    them (values by position). `statement` must be one built once and kept: its compiled
    form is kept for it. A connection with event listeners of its own or its engine's takes
    SQLAlchemy's ordinary path, since those expect to see each statement."""
    key = (statement, connection.dialect)  # an engine's own compiled form (apps may differ)
    plan = _PLANS.get(key, _UNPLANNED)
    if plan is _UNPLANNED:
        plan = _plan(key)
    if (
        plan is None
        or connection._has_events  # listeners of this connection alone
        or connection.engine._has_events
    ):
        return connection.execute(statement, parameters).all()
    pooled = connection.connection  # raises as SQLAlchemy would for a closed connection
    driver_connection = pooled.dbapi_connection
    if not (driver_connection.autocommit or connection.in_transaction()):
        # SQLAlchemy would begin a transaction first; let it.
        return connection.execute(statement, parameters).all()
    cursor = None
    values: Mapping[str, Any] = parameters
    try:
        values = plan.compiled.construct_params(parameters, escape_names=False)
        for name, process in plan.bind_processors:
            if name in values:
                values[name] = process(values[name])
        cursor = pooled.cursor()
        statements = prepared.for_dialect(connection.dialect)
        if statements is None or not statements.execute(
            cursor, plan.sql, values, plan.compiled, connection.info
        ):
            cursor.execute(plan.sql, values)
        return cursor.fetchall()
    except Exception as error:
        # As SQLAlchemy's execution hands it on: a driver's error, or a value its type
        # refused, wrapped, and a lost connection invalidated. This raises.
        connection._handle_dbapi_exception(error, plan.sql, values, cursor, None)
        raise
    finally:
        if cursor is not None:
            cursor.close()


def _plan(key: tuple[Executable, Any]) -> _Plan | None:
    """The statement compiled for the driver, or None (the ordinary path, always) when it needs
    SQLAlchemy around the driver: SQL rewritten per execution (an expanding IN list), columns
    converted after the driver's own (result processors), execution options."""
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
