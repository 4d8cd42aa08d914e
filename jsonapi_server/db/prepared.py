"""Repeated reads sent as PostgreSQL prepared statements: psycopg2 sends every statement as
text, which the server would parse and plan anew each time. Autocommit connections only (GET,
HEAD); DATABASE_PREPARED_STATEMENTS=false behind a pooler that shares server connections."""

import itertools
import re
import threading
import weakref
from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.errors
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.types import NullType

MAX_PER_CONNECTION = 256  # beyond it the oldest is deallocated to make room
MAX_STATEMENTS = 1024  # texts this process remembers (each seen once, or prepared)
_PREPARED_ON_CONNECTION = "jsonapi_server_prepared"  # pool record info: cleared on reconnect
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


@dataclass(frozen=True)
class PreparedForm:
    name: str
    prepare: str  # PREPARE name (types) AS ..., with $1, $2, ... for the parameters
    execute: str  # EXECUTE name(%(a)s, %(b)s, ...), for psycopg2 to fill in
    inferred: tuple[int, ...]  # positions (from 0) of parameters whose type the server infers


# Each engine's, for reads that run statements themselves (cursor_reads).
_BY_DIALECT: "weakref.WeakKeyDictionary[Any, PreparedStatements]" = weakref.WeakKeyDictionary()
_SEEN_ONCE = object()
_NOT_PREPARABLE = object()
_names = itertools.count(1)


def prepared_form(statement: str, compiled: Any, dialect: Any) -> PreparedForm | None:
    """The PREPARE and EXECUTE texts of a statement in psycopg2's `%(name)s` style, compiled as
    `compiled`. Each parameter is declared with its bind parameter's type, so the value psycopg2
    quotes is read as the literal would have been; one of no known type (LIMIT's) is left for
    the server to infer. None when a parameter is not the statement's own (an expanded IN list)."""
    binds = {name: bind for bind, name in compiled.bind_names.items()}
    names: list[str] = []

    def placeholder(match: re.Match) -> str:
        name = match.group(1)
        if name is None:  # `%%`, a literal percent sign once psycopg2 has filled it in
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    body = _PLACEHOLDER.sub(placeholder, statement)
    if any(name not in binds for name in names):
        return None
    types = [
        "unknown"
        if isinstance(binds[name].type, NullType)
        else binds[name].type.compile(dialect=dialect)
        for name in names
    ]
    name = f"jsonapi_server_{next(_names)}"
    declared = f" ({', '.join(types)})" if types else ""
    arguments = ", ".join(f"%({parameter})s" for parameter in names)
    return PreparedForm(
        name,
        f"PREPARE {name}{declared} AS {body}",
        f"EXECUTE {name}({arguments})" if names else f"EXECUTE {name}",
        tuple(position for position, type_ in enumerate(types) if type_ == "unknown"),
    )


class PreparedStatements:
    """What this process knows of compiled statements: seen once, prepared under a name, or
    not preparable."""

    def __init__(self, dialect: Any) -> None:
        self._dialect = dialect
        self._forms: dict[tuple[str, Any], object] = {}
        self._lock = threading.Lock()  # threaded workers: evicting iterates the dict

    def form_for(self, statement: str, compiled: Any) -> PreparedForm | None:
        """The prepared form of a statement seen before; None the first time and for one that
        cannot be prepared."""
        key = (statement, compiled)  # a Compiled hashes by identity
        known = self._forms.get(key)
        if isinstance(known, PreparedForm):
            return known
        if known is None:
            self._remember(key, _SEEN_ONCE)
            return None
        if known is _SEEN_ONCE:
            form = prepared_form(statement, compiled, self._dialect)
            self._remember(key, _NOT_PREPARABLE if form is None else form)
            return form
        return None

    def execute(
        self, cursor, statement: str, parameters: dict, compiled: Any, connection_info: dict
    ) -> bool:
        """Runs a repeated SELECT on a connection in autocommit as EXECUTE, preparing it on this
        connection first if need be; False, having run nothing, otherwise. Autocommit only: a
        PREPARE that fails there aborts no transaction (the statement goes as text from then
        on). `connection_info` is the pooled connection's, which lasts as its server session."""
        if not cursor.connection.autocommit or not statement.startswith("SELECT"):
            return False
        form = self.form_for(statement, compiled)
        if form is None:
            return False
        prepared = connection_info.get(_PREPARED_ON_CONNECTION)
        if prepared is None:
            prepared = connection_info[_PREPARED_ON_CONNECTION] = {}
        if form.name not in prepared:
            try:
                with cursor.connection.cursor() as preparing:
                    if len(prepared) >= MAX_PER_CONNECTION:
                        oldest = next(iter(prepared))
                        preparing.execute(f"DEALLOCATE {oldest}")
                        del prepared[oldest]
                    if not _prepare(preparing, form):
                        self._remember((statement, compiled), _NOT_PREPARABLE)
                        return False
            except psycopg2.ProgrammingError:
                # PostgreSQL cannot prepare it (say, an operator between two untyped values)
                self._remember((statement, compiled), _NOT_PREPARABLE)
                return False
            except psycopg2.Error:
                # The connection failed: the statement itself will meet that, and SQLAlchemy
                # handles it as it handles any statement's failure.
                return False
            prepared[form.name] = None
        try:
            cursor.execute(form.execute, parameters)
        except psycopg2.errors.InvalidSqlStatementName:
            # Deallocated behind our back (DEALLOCATE ALL, DISCARD ALL): in autocommit nothing
            # is aborted, so this statement goes as text and the next ones prepare again.
            prepared.clear()
            cursor.execute(statement, parameters)
        return True

    def _remember(self, key: tuple[str, Any], value: object) -> None:
        with self._lock:
            self._forms[key] = value
            if len(self._forms) > MAX_STATEMENTS:
                self._forms.pop(next(iter(self._forms)))


def _prepare(cursor, form: PreparedForm) -> bool:
    """PREPARE on this connection; False (and nothing left prepared) when a parameter whose
    type the server inferred came out as text or unknown, where a value sent as text (an
    integer, say) would have been read as its own type."""
    cursor.execute(form.prepare)
    if not form.inferred:
        return True
    cursor.execute(
        "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = %s", (form.name,)
    )
    types = cursor.fetchone()[0]
    if any(types[position] in ("text", "unknown") for position in form.inferred):
        cursor.execute(f"DEALLOCATE {form.name}")
        return False
    return True


def prepare_repeated_reads(engine: Engine) -> None:
    """Sends repeated reads on autocommit connections as EXECUTE, hooked on the dialect's
    do_execute: engine events would switch on SQLAlchemy's event dispatch around every
    statement (a cost each one-row read would feel), and the engine's events (statement counts)
    see the statement as compiled, never the PREPARE. Reads on the cursor ask for_dialect."""
    statements = PreparedStatements(engine.dialect)
    _BY_DIALECT[engine.dialect] = statements

    # Planned once, for any values (the setting concerns prepared statements only). Left to
    # choose, PostgreSQL plans a page anew on every execution, because a generic plan's guess
    # at LIMIT and OFFSET looks dearer than the page's own plan, which is the same plan. Our
    # reads are key lookups and index ranges, whose plans do not turn on the values; a pull's
    # generic plan even reads in index order where the per-value plan sorted every newer row.
    @event.listens_for(engine, "connect")
    def plan_once(dbapi_connection, _record) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_generic_plan")
        dbapi_connection.commit()

    @event.listens_for(engine.dialect, "do_execute")
    def execute_prepared(cursor, statement, parameters, context) -> bool:
        if context.compiled is None or not isinstance(parameters, dict):
            return False
        return statements.execute(
            cursor, statement, parameters, context.compiled, context.root_connection.info
        )


def for_dialect(dialect: Any) -> PreparedStatements | None:
    """The prepared statements of the engine this dialect belongs to; None when that engine
    does not prepare (DATABASE_PREPARED_STATEMENTS=false)."""
    return _BY_DIALECT.get(dialect)
