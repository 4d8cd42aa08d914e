"""Repeated reads in autocommit run as prepared statements (jsonapi_server/db/prepared.py): the
same rows, one EXECUTE on the wire, a fallback to text for what PostgreSQL cannot prepare, and
nothing of it inside a transaction."""

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from jsonapi_server.db import prepared
from jsonapi_server.db.prepared import prepared_form
from jsonapi_server.extensions import db

from .factories import UserFactory

SUM = sa.text("SELECT CAST(:a AS integer) + CAST(:a AS integer) + CAST(:b AS integer) AS total")


@pytest.fixture
def wire(engine):
    """The texts sent to the server, as each statement's engine events see them."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(statement)

    event.listen(engine, "after_cursor_execute", record)
    yield sent
    event.remove(engine, "after_cursor_execute", record)


def server_prepared(connection) -> list[tuple[str, int]]:
    """This connection's prepared statements, and how many times each was executed."""
    cursor = connection.connection.dbapi_connection.cursor()
    cursor.execute(
        "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements"
        " ORDER BY prepare_time"
    )
    return cursor.fetchall()


def test_forms_declare_each_parameter_once_with_its_type(engine):
    statement = sa.text(
        "SELECT a FROM t WHERE b = :x AND c LIKE 'x%' AND d = :y OR e = :x LIMIT :n"
    ).bindparams(sa.bindparam("x", type_=sa.Integer), sa.bindparam("y", type_=sa.Uuid))
    compiled = statement.compile(dialect=engine.dialect)
    form = prepared_form(compiled.string, compiled, engine.dialect)
    expected = "SELECT a FROM t WHERE b = $1 AND c LIKE 'x%' AND d = $2::UUID OR e = $1 LIMIT $3"
    assert form.prepare == f"PREPARE {form.name} (INTEGER, UUID, unknown) AS {expected}"
    assert form.execute == f"EXECUTE {form.name}(%(x)s, %(y)s, %(n)s)"
    assert form.inferred == (2,)
    constant = sa.text("SELECT 1").compile(dialect=engine.dialect)
    bare = prepared_form("SELECT 1", constant, engine.dialect)
    assert (bare.prepare, bare.execute) == (
        f"PREPARE {bare.name} AS SELECT 1",
        f"EXECUTE {bare.name}",
    )


def test_a_repeated_read_is_prepared_once_and_executed_after(engine, wire):
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        results = [connection.execute(SUM, {"a": n, "b": 1}).scalar_one() for n in (1, 2, 3)]
        assert results == [3, 5, 7]
        [(text, executions)] = server_prepared(connection)
        assert "$1" in text and "$2" in text
        assert executions == 2  # the first sight went as text
        # the engine's events see each statement once, as compiled (no PREPARE among them)
        assert wire == [str(SUM.compile(dialect=engine.dialect))] * 3


def test_a_prepared_statement_is_planned_once_for_any_values(engine):
    # Left to choose, PostgreSQL plans each of the first five executions for its values (and a
    # page's every execution after, as a generic LIMIT looks dearer to it).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for n in range(4):
            connection.execute(SUM, {"a": n, "b": 1})
        cursor = connection.connection.dbapi_connection.cursor()
        cursor.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements")
        assert cursor.fetchall() == [(3, 0)]
        # set on each connection, where it concerns prepared statements only
        assert connection.exec_driver_sql("SHOW plan_cache_mode").scalar_one() == (
            "force_generic_plan"
        )


def test_inside_a_transaction_nothing_is_prepared(engine):
    with engine.connect() as connection, connection.begin():
        for n in (1, 2, 3):
            assert connection.execute(SUM, {"a": n, "b": 0}).scalar_one() == 2 * n
        assert server_prepared(connection) == []


@pytest.mark.parametrize(
    ("statement", "values", "expected"),
    [
        # PostgreSQL would read an untyped parameter here as text, where the value sent as
        # text is read as its own type (an integer): kept as text, it answers 5, not "5".
        ("SELECT :value AS value", {"value": 5}, 5),
        # Two untyped parameters around an operator: PostgreSQL cannot prepare it at all.
        ("SELECT :a + :b AS value", {"a": 2, "b": 3}, 5),
    ],
)
def test_what_would_change_meaning_or_cannot_be_prepared_stays_text(
    engine, statement, values, expected
):
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        answers = [connection.execute(sa.text(statement), values).scalar_one() for _ in range(3)]
        assert answers == [expected] * 3
        assert server_prepared(connection) == []


def test_a_new_connection_prepares_again(engine):
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for n in (1, 2):
            connection.execute(SUM, {"a": n, "b": 0})
        connection.invalidate()  # its server session is gone, and what it had prepared
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        assert connection.execute(SUM, {"a": 5, "b": 0}).scalar_one() == 10
        [(_text, executions)] = server_prepared(connection)
        assert executions == 1


def test_statements_deallocated_behind_its_back_are_prepared_again(engine):
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for n in (1, 2):
            connection.execute(SUM, {"a": n, "b": 0})
        connection.connection.dbapi_connection.cursor().execute("DEALLOCATE ALL")
        assert connection.execute(SUM, {"a": 3, "b": 0}).scalar_one() == 6  # as text
        assert server_prepared(connection) == []
        assert connection.execute(SUM, {"a": 4, "b": 0}).scalar_one() == 8
        [(_text, executions)] = server_prepared(connection)
        assert executions == 1


def test_a_connection_keeps_a_bounded_number(engine, monkeypatch):
    monkeypatch.setattr(prepared, "MAX_PER_CONNECTION", 2)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for offset in range(4):
            statement = sa.text(f"SELECT CAST(:a AS integer) + {offset} AS total")
            for _ in range(2):
                assert connection.execute(statement, {"a": 1}).scalar_one() == 1 + offset
        kept = [text for text, _executions in server_prepared(connection)]
        assert len(kept) == 2
        assert " + 2 AS" in kept[0] and " + 3 AS" in kept[1]  # the newest


def test_api_reads_go_prepared_and_answer_the_same(app, make_app, api, login, session):
    user = UserFactory()
    organization = api.create_organization(user)
    url = f"/api/v2/organizations/{organization['id']}/memberships?include=user"
    documents = {}
    for prepared_statements in (True, False):
        application = make_app(DATABASE_PREPARED_STATEMENTS=prepared_statements)
        client = application.test_client()
        answers = [client.get(url, headers=login(user)).json for _ in range(3)]
        assert answers[0]["data"] and answers[0] == answers[1] == answers[2]
        documents[prepared_statements] = answers[0]
        with application.app_context(), db.engine.connect() as connection:
            # requests one after another: the pool's one connection served them all
            executed = server_prepared(connection)
        if prepared_statements:
            assert len(executed) == 2  # authentication, the page
            assert all(executions == 2 for _text, executions in executed)
        else:
            assert executed == []
    assert documents[True] == documents[False]
