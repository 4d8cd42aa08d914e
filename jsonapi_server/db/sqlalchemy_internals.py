"""The insides of SQLAlchemy that cursor reads need (running a compiled statement as its own
execution would, for which it has no public API), each behind one function here and read nowhere
else; tests/test_library_internals.py checks each against the installed version."""

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from sqlalchemy.engine import Connection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine


def has_event_listeners(connection: Connection) -> bool:
    """Whether a listener of `connection` or its engine (even one added after the connection
    was made) expects each statement: SQLAlchemy's own test before it dispatches events."""
    return connection._has_events or connection.engine._has_events


def listens_to_executions(connection: Connection) -> bool:
    """Whether a listener of whole executions (before_execute, after_execute) is set on
    `connection` or its engine: those expect SQLAlchemy's own execution and result."""
    return bool(connection.dispatch.before_execute or connection.dispatch.after_execute)


def handle_driver_error(
    connection: Connection, error: BaseException, sql: str, parameters: Any, cursor: Any
) -> NoReturn:
    """Raises `error` (the driver's running `sql`, or a bind processor's) as SQLAlchemy's own
    execution would: wrapped in DBAPIError or StatementError, a lost connection invalidated."""
    connection._handle_dbapi_exception(error, sql, parameters, cursor, None)  # raises
    raise error  # were it ever to return, the error still is not lost


def bind_processors(compiled: SQLCompiler) -> Mapping[str, Any]:
    """By name, the conversion each bind parameter's type applies before the driver gets the
    value (a sequence of them only for an expanding IN list of tuples, never run here)."""
    return compiled._bind_processors


def result_column_types(compiled: SQLCompiler) -> Sequence[TypeEngine[Any]]:
    """The types SQLAlchemy reads a compiled SELECT's columns by, in order."""
    return [column.type for column in compiled._result_columns]
