"""Lasting statements read on the driver's cursor (jsonapi_server/db/cursor_reads.py): the rows
SQLAlchemy would give, prepared where prepared.py would prepare, seen by the engine's cursor
event listeners without leaving that way, SQLAlchemy's own path for whatever needs it, and
errors handed on as SQLAlchemy hands them."""

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from jsonapi_server.db.cursor_reads import all_rows
from jsonapi_server.models.base import UTCDateTime

from .test_prepared import server_prepared

# Typed parameters, a value given in the statement itself, and a column of every kind a
# record reads: what SQLAlchemy compiles, binds and hands back, the driver must too.
SUMMARY = sa.select(
    sa.bindparam("id", type_=sa.Uuid).label("id"),
    sa.bindparam("at", type_=UTCDateTime).label("at"),
    (sa.bindparam("n", type_=sa.Integer) + sa.bindparam("fixed", 10)).label("total"),
    sa.literal("text", sa.String).label("word"),
    sa.null().label("nothing"),
)
VALUES = {"id": uuid.UUID(int=7), "at": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), "n": 5}


def autocommit(engine):
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def test_rows_are_those_sqlalchemy_gives_read_on_the_driver(engine):
    with autocommit(engine) as connection:
        ordinary = connection.execute(SUMMARY, VALUES).all()
        direct = all_rows(connection, SUMMARY, VALUES)
    assert [type(row) for row in direct] == [tuple]  # the driver's row: no Row was made
    assert direct == [tuple(row) for row in ordinary]
    # the type's bind processing ran: kept to the millisecond, as every timestamp is stored
    assert direct[0][1] == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert direct[0][2] == 15


def test_repeated_reads_in_autocommit_are_prepared(engine):
    with autocommit(engine) as connection:
        for n in range(3):
            assert all_rows(connection, SUMMARY, {**VALUES, "n": n})[0][2] == 10 + n
        [(text, executions)] = server_prepared(connection)
    assert "$1" in text and executions == 2  # the first sight went as text


def test_inside_a_transaction_rows_are_read_but_nothing_prepared(engine):
    with engine.connect() as connection, connection.begin():
        for n in range(3):
            [row] = all_rows(connection, SUMMARY, {**VALUES, "n": n})
            assert type(row) is tuple and row[2] == 10 + n
        assert server_prepared(connection) == []


def test_a_connection_not_yet_in_a_transaction_lets_sqlalchemy_begin_it(engine):
    with engine.connect() as connection:
        [row] = all_rows(connection, SUMMARY, VALUES)
        assert connection.in_transaction()
        assert type(row) is not tuple  # SQLAlchemy's own path


def test_cursor_event_listeners_see_every_statement_and_change_nothing(engine):
    """Listeners (statement counts) see each statement as compiled, and the read still runs on
    the driver's cursor, prepared once seen before."""
    seen = []
    event.listen(engine, "after_cursor_execute", lambda *args: seen.append(args[2]))
    with autocommit(engine) as connection:
        rows = [all_rows(connection, SUMMARY, {**VALUES, "n": n}) for n in range(3)]
        [(_text, executions)] = server_prepared(connection)
    assert [row[0][2] for row in rows] == [10, 11, 12]
    assert all(type(row[0]) is tuple for row in rows)  # the driver's rows
    assert executions == 2
    assert len(seen) == 3 and len(set(seen)) == 1 and seen[0].startswith("SELECT")


def test_a_cursor_listener_may_change_the_statement_as_sqlalchemy_lets_it(engine):
    def tagged(_conn, _cursor, statement, parameters, _context, _executemany):
        return f"{statement} -- tagged", parameters

    seen = []
    event.listen(engine, "before_cursor_execute", tagged, retval=True)
    event.listen(engine, "after_cursor_execute", lambda *args: seen.append(args[2]))
    with autocommit(engine) as connection:
        for _ in range(2):
            assert all_rows(connection, SUMMARY, VALUES)[0][2] == 15
        [(text, _executions)] = server_prepared(connection)
    assert all(statement.endswith(" -- tagged") for statement in seen) and len(seen) == 2
    assert text.endswith(" -- tagged")  # what was prepared is what the listener made of it


def test_a_listener_of_whole_executions_gets_sqlalchemy_s_own(engine):
    seen = []
    event.listen(engine, "before_execute", lambda _conn, clause, *_args: seen.append(clause))
    with autocommit(engine) as connection:
        [row] = all_rows(connection, SUMMARY, VALUES)
    assert type(row) is not tuple and seen == [SUMMARY]


class Percent(sa.TypeDecorator):
    """A column converted after the driver has read it."""

    impl = sa.Integer
    cache_ok = True

    def process_result_value(self, value, dialect):
        return None if value is None else value / 100


@pytest.mark.parametrize(
    ("statement", "values", "expected"),
    [
        # a result processor: only SQLAlchemy's path converts the value
        (sa.select(sa.cast(sa.bindparam("v", type_=sa.Integer), Percent)), {"v": 50}, 0.5),
        # execution options (here, a token for SQLAlchemy's log lines): SQLAlchemy's to honour
        (
            sa.select(sa.bindparam("v", type_=sa.Integer)).execution_options(logging_token="a"),
            {"v": 3},
            3,
        ),
        # an expanding IN list: SQLAlchemy rewrites the SQL for each list's length
        (
            sa.select(sa.literal(1, sa.Integer)).where(
                sa.literal(2, sa.Integer).in_(sa.bindparam("values", expanding=True))
            ),
            {"values": [1, 2, 3]},
            1,
        ),
    ],
)
def test_what_needs_sqlalchemy_after_the_driver_is_read_its_way(
    engine, statement, values, expected
):
    with autocommit(engine) as connection:
        rows = [all_rows(connection, statement, values) for _ in range(2)]
    assert [row[0][0] for row in rows] == [expected] * 2
    assert all(type(row[0]) is not tuple for row in rows)


def test_a_value_its_type_refuses_is_wrapped_as_sqlalchemy_wraps_it(engine):
    naive = {**VALUES, "at": datetime(2026, 1, 2)}
    with autocommit(engine) as connection:
        with pytest.raises(sa.exc.StatementError) as ordinary:
            connection.execute(SUMMARY, naive)
        with pytest.raises(sa.exc.StatementError) as direct:
            all_rows(connection, SUMMARY, naive)
    assert type(direct.value.orig) is type(ordinary.value.orig) is ValueError


def test_a_driver_error_is_wrapped_and_a_lost_connection_invalidated(engine):
    sleep = sa.select(sa.func.pg_sleep(sa.bindparam("seconds", type_=sa.Float)))
    with autocommit(engine) as connection:
        connection.exec_driver_sql("SET statement_timeout = 50")
        with pytest.raises(sa.exc.OperationalError) as timed_out:
            all_rows(connection, sleep, {"seconds": 1})
        assert "statement timeout" in str(timed_out.value.orig)
        assert not connection.invalidated
        backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with autocommit(engine) as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        with pytest.raises(sa.exc.OperationalError) as lost:
            all_rows(connection, SUMMARY, VALUES)
        assert lost.value.connection_invalidated
        assert connection.invalidated


def test_each_engine_reads_a_statement_in_its_own_form(engine):
    # The same kept statement on PostgreSQL, then on SQLite (development), whose driver
    # takes other placeholders and is read SQLAlchemy's way.
    plus_one = sa.select((sa.bindparam("n", type_=sa.Integer) + 1).label("next"))
    with autocommit(engine) as connection:
        assert [tuple(row) for row in all_rows(connection, plus_one, {"n": 1})] == [(2,)]
    sqlite = sa.create_engine("sqlite://")
    try:
        with sqlite.connect() as connection, connection.begin():
            assert [tuple(row) for row in all_rows(connection, plus_one, {"n": 2})] == [(3,)]
    finally:
        sqlite.dispose()
