"""Tests run as production runs: on the application's own engine, their writes committed (any
connection sees them), and are isolated by emptying every table after each (conftest's
empty_tables). A test that commits rows in every table is followed by one that finds none."""

import psycopg2
import psycopg2.sql
import sqlalchemy as sa

from jsonapi_server.extensions import db

from .conftest import emptying_statement
from .factories import FACTORIES


def row_counts(database_url: str) -> dict[str, int]:
    """Each table's rows, counted on a connection of no pool of the suite's."""
    connection = psycopg2.connect(database_url.replace("+psycopg2", ""))
    try:
        with connection, connection.cursor() as cursor:
            counts = {}
            for table in [*db.metadata.sorted_tables, sa.table("alembic_version")]:
                name = psycopg2.sql.Identifier(table.name)
                cursor.execute(psycopg2.sql.SQL("SELECT count(*) FROM {}").format(name))
                counts[table.name] = cursor.fetchone()[0]
            return counts
    finally:
        connection.close()


def test_a_test_that_commits_rows_in_every_table(app, api, user, session, database_url):
    for factory in FACTORIES.values():
        factory()
    api.create_organization(user, name="Committed by a request")
    counts = row_counts(database_url)
    assert all(counts.values()), counts


def test_the_next_test_finds_every_table_empty_but_the_migrations(database_url):
    counts = row_counts(database_url)
    assert counts.pop("alembic_version") == 1  # the schema stays; only rows go
    assert set(counts.values()) == {0}, counts


def test_a_connection_left_in_a_transaction_is_reported(app):
    with app.app_context():
        engine = db.engine
    emptying = emptying_statement(db.metadata, engine.dialect)
    with engine.connect() as left_open:
        left_open.execute(sa.text("SELECT 1"))  # begins a transaction, left open
        with engine.begin() as cleaner:
            assert cleaner.exec_driver_sql(emptying).scalar_one() == 1
        left_open.rollback()
        with engine.begin() as cleaner:
            assert cleaner.exec_driver_sql(emptying).scalar_one() == 0
