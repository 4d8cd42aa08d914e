"""Migrations are the only way the schema is made: they agree with the models, and they go
up, down and up again on PostgreSQL and on SQLite."""

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from jsonapi_server import create_app
from jsonapi_server.extensions import db

from .conftest import TEST_SETTINGS, scratch_database


def app_for(url: str):
    return create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url})


def table_names(app) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_models_and_migrations_agree(connection):
    """Autogenerate, run against the migrated test database, finds nothing to add."""
    differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    else:
        with scratch_database("jsonapi_server_migrations") as url:
            yield url


def test_upgrade_downgrade_upgrade(empty_database_url):
    app = app_for(empty_database_url)
    expected = {table.name for table in db.metadata.sorted_tables}
    with app.app_context():
        flask_migrate.upgrade()
        assert table_names(app) == expected
        flask_migrate.downgrade(revision="base")
        assert table_names(app) == set()
        flask_migrate.upgrade()
        assert table_names(app) == expected
        db.engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path):
    app = app_for(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with app.app_context():
        mode = db.session.execute(sa.text("PRAGMA journal_mode")).scalar()
        foreign_keys = db.session.execute(sa.text("PRAGMA foreign_keys")).scalar()
    assert (mode, foreign_keys) == ("wal", 1)
