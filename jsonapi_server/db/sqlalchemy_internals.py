"""The insides of SQLAlchemy that cursor reads need (running a compiled statement as its own
execution would, for which it has no public API), each behind one function here and read nowhere
else; tests/test_library_internals.py checks each against the installed version."""

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from sqlalchemy.engine import Connection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine


def has_event_listeners(connection: Connection) -> bool:
    """Whether an event listener of `connection`, or of its engine (one added after the
    connection was made counts too), expects to see each statement run on it: SQLAlchemy's
    own test before it dispatches execution events."""
    return connection._has_events or connection.engine._has_events


def listens_to_executions(connection: Connection) -> bool:
    """Whether a listener of whole executions (before_execute, after_execute) is set on
    `connection` or its engine: those expect SQLAlchemy's own execution and result."""
    return bool(connection.dispatch.before_execute or connection.dispatch.after_execute)


def handle_driver_error(
    connection: Connection, error: BaseException, sql: str, parameters: Any, cursor: Any
) -> NoReturn:
    """Hands `error`, raised running `sql` on a cursor of `connection`'s driver connection (or
    by a bind processor before it), to SQLAlchemy as its own execution hands it: a driver's
    error wrapped in sqlalchemy.exc.DBAPIError, a value a type refused in StatementError, a
    lost connection invalidated. Raises."""
    connection._handle_dbapi_exception(error, sql, parameters, cursor, None)  # raises
    raise error  # were it ever to return, the error still is not lost


def bind_processors(compiled: SQLCompiler) -> Mapping[str, Any]:
    """The bind parameters of `compiled` whose type converts the value before the driver gets
    it, by name, with that conversion: what SQLAlchemy applies to the parameters it sends (a
    tuple's parameter has one conversion per member, a sequence; only an expanding IN list of
    tuples has one, and such a statement is never run here)."""
    return compiled._bind_processors


def result_column_types(compiled: SQLCompiler) -> Sequence[TypeEngine[Any]]:
    """The types of the columns a compiled SELECT returns, in order: those SQLAlchemy reads
    each returned value by."""
    return [column.type for column in compiled._result_columns]
