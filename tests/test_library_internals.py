"""What the project assumes of libraries' private insides, checked against the installed
versions: SQLAlchemy's (jsonapi_server/db/sqlalchemy_internals.py), flask-cors's and logging's
(jsonapi_server/api/library_internals.py), and marshmallow's Schema._serialize, which
tests/reference_dump.py overrides. When an upgrade breaks one, its test fails naming the
library, its version and the assumption, rather than some request somewhere failing or slowing
down."""

import logging
import os
import platform
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import version

import marshmallow as ma
import psycopg2
import psycopg2.errors
import pytest
import sqlalchemy as sa
from flask import Flask
from flask_cors import CORS
from sqlalchemy import event

from jsonapi_server.api.library_internals import (
    FLASK_CORS_MODULE,
    cors_after_request_position,
    skip_caller_lookup,
)
from jsonapi_server.db.sqlalchemy_internals import (
    bind_processors,
    handle_driver_error,
    has_event_listeners,
    result_column_types,
)
from jsonapi_server.models.base import UTCDateTime

SQLALCHEMY_INTERNALS = "jsonapi_server/db/sqlalchemy_internals.py"
WEB_INTERNALS = "jsonapi_server/api/library_internals.py"


@contextmanager
def relied_on(library: str, assumption: str, where: str):
    """Fails the test with a message naming `library`, its version and `assumption` if the
    block raises (a failed assert or pytest.raises included)."""
    try:
        yield
    except (Exception, pytest.fail.Exception) as error:
        if library == "logging":
            release = f"of Python {platform.python_version()}"
        else:
            release = version(library)
        pytest.fail(
            f"{library} {release} no longer does what {where} relies on: {assumption}"
            f" ({type(error).__name__}: {error})",
            pytrace=False,
        )


def test_the_failure_names_the_library_its_version_and_the_assumption():
    with (
        pytest.raises(pytest.fail.Exception) as failed,
        relied_on("sqlalchemy", "something it did", SQLALCHEMY_INTERNALS),
    ):
        raise AttributeError("'Connection' object has no attribute '_has_events'")
    message = str(failed.value)
    assert f"sqlalchemy {sa.__version__} no longer does what" in message
    assert SQLALCHEMY_INTERNALS in message and "something it did" in message
    assert "_has_events" in message


@pytest.fixture
def plain_engine(database_url):
    """An engine with no event listeners of any kind."""
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg2://"))
    yield engine
    engine.dispose()


# -- SQLAlchemy ------------------------------------------------------------------------------


def test_sqlalchemy_says_which_connections_have_event_listeners(plain_engine):
    def listener(*_args):
        pass

    with (
        plain_engine.connect() as first,
        plain_engine.connect() as second,
        relied_on(
            "sqlalchemy",
            "Connection._has_events and Engine._has_events say whether execution events are"
            " listened for, on the connection or on its engine, even on one added afterwards",
            SQLALCHEMY_INTERNALS,
        ),
    ):
        assert not has_event_listeners(first)
        event.listen(first, "before_cursor_execute", listener)
        assert has_event_listeners(first)
        assert not has_event_listeners(second)
        event.listen(plain_engine, "before_cursor_execute", listener)
        assert has_event_listeners(second)  # made before the engine's listener was


def test_sqlalchemy_wraps_a_driver_error_handed_to_it(plain_engine):
    sql = "SELECT * FROM no_such_table WHERE id = %(id)s"
    with (
        plain_engine.connect() as connection,
        relied_on(
            "sqlalchemy",
            "Connection._handle_dbapi_exception(error, statement, parameters, cursor, context)"
            " raises the driver's error wrapped in sqlalchemy.exc.DBAPIError, and invalidates a"
            " lost connection",
            SQLALCHEMY_INTERNALS,
        ),
    ):
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        cursor = connection.connection.cursor()
        with pytest.raises(psycopg2.errors.UndefinedTable) as raised:
            cursor.execute(sql, {"id": 1})
        with pytest.raises(sa.exc.ProgrammingError) as wrapped:
            handle_driver_error(connection, raised.value, sql, {"id": 1}, cursor)
        assert wrapped.value.orig is raised.value and wrapped.value.statement == sql
        assert not connection.invalidated
        assert connection.exec_driver_sql("SELECT 1").scalar_one() == 1

        backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with plain_engine.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            other.commit()
        cursor = connection.connection.cursor()
        with pytest.raises(psycopg2.OperationalError) as raised:
            cursor.execute("SELECT 1")
        with pytest.raises(sa.exc.OperationalError) as lost:
            handle_driver_error(connection, raised.value, "SELECT 1", {}, cursor)
        assert lost.value.connection_invalidated and connection.invalidated


def test_sqlalchemy_hands_over_the_bind_processing_its_execution_applies(plain_engine):
    statement = sa.select(
        sa.bindparam("at", type_=UTCDateTime).label("at"),
        sa.bindparam("id", type_=sa.Uuid).label("id"),
        (sa.bindparam("n", type_=sa.Integer) + 1).label("next"),
    )
    values = {
        "at": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        "id": uuid.UUID(int=7),
        "n": 5,
    }
    sent = []
    event.listen(plain_engine, "before_cursor_execute", lambda *args: sent.append(dict(args[3])))
    with relied_on(
        "sqlalchemy",
        "SQLCompiler._bind_processors maps bind parameter names to the conversions its"
        " execution applies to their values before the driver gets them",
        SQLALCHEMY_INTERNALS,
    ):
        with plain_engine.connect() as connection:
            connection.execute(statement, values)
        compiled = statement.compile(dialect=plain_engine.dialect)
        processors = bind_processors(compiled)
        assert "at" in processors  # UTCDateTime's: kept to the millisecond
        filled = compiled.construct_params(values, escape_names=False)
        for name, process in processors.items():
            filled[name] = process(filled[name])
        assert filled == sent[0]
        assert filled["at"] == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def test_sqlalchemy_hands_over_the_types_it_reads_a_selects_columns_by(plain_engine):
    class Percent(sa.TypeDecorator):
        impl = sa.Integer
        cache_ok = True

        def process_result_value(self, value, dialect):
            return value / 100

    percent = Percent()
    statement = sa.select(
        sa.literal(50, percent).label("share"),
        sa.literal("text", sa.String).label("word"),
    )
    with relied_on(
        "sqlalchemy",
        "SQLCompiler._result_columns lists a SELECT's columns in order, each with the .type"
        " its values are read by",
        SQLALCHEMY_INTERNALS,
    ):
        compiled = statement.compile(dialect=plain_engine.dialect)
        types = result_column_types(compiled)
        assert [type(t) for t in types] == [Percent, sa.String]
        assert types[0] is percent
        dialect = plain_engine.dialect
        assert types[0].dialect_impl(dialect).result_processor(dialect, None) is not None
        with plain_engine.connect() as connection:
            assert connection.execute(statement).one() == (0.5, "text")


# -- flask-cors --------------------------------------------------------------------------------


def test_flask_cors_adds_its_headers_in_one_after_request_function():
    app = Flask(__name__)
    app.add_url_rule("/", "index", lambda: "hello")
    CORS().init_app(app, origins=["https://app.example.com"], always_send=False)
    with relied_on(
        "flask-cors",
        f"init_app adds one after-request function, defined in {FLASK_CORS_MODULE}, which"
        " adds the CORS headers, and none (not even Vary) to a request without Origin",
        WEB_INTERNALS,
    ):
        position = cors_after_request_position(app)
        add_cors_headers = app.after_request_funcs[None][position]
        with app.test_request_context("/", headers={"Origin": "https://app.example.com"}):
            response = add_cors_headers(app.make_response("hello"))
        assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        client = app.test_client()
        with_origin = client.get("/", headers={"Origin": "https://app.example.com"})
        assert with_origin.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        without = client.get("/")
        assert not [name for name, _ in without.headers.items() if name.startswith("Access-")]
        assert "Vary" not in without.headers


def test_a_missing_flask_cors_function_is_said_plainly():
    app = Flask(__name__)
    with pytest.raises(RuntimeError, match=r"flask-cors \S+: 0 after-request functions"):
        cors_after_request_position(app)


# -- logging ---------------------------------------------------------------------------------


def test_logging_stops_looking_up_callers_when_told(monkeypatch):
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("tests.library_internals")
    logger.addHandler(handler)
    try:
        with relied_on(
            "logging",
            "logging._srcfile set to None stops Logger._log from looking up the caller"
            " (sys._getframe) for each record",
            WEB_INTERNALS,
        ):
            assert hasattr(logging, "_srcfile")
            # logging's own value, whatever configure_logging has done before
            monkeypatch.setattr(
                logging, "_srcfile", os.path.normcase(logging.addLevelName.__code__.co_filename)
            )
            logger.warning("looked up")
            skip_caller_lookup()
            logger.warning("not looked up")
            assert os.path.normcase(records[0].pathname) == os.path.normcase(__file__)
            assert records[1].pathname == "(unknown file)" and records[1].lineno == 0
    finally:
        logger.removeHandler(handler)


# -- marshmallow -------------------------------------------------------------------------------


def test_marshmallow_dumps_through_the_schemas_serialize():
    class Shown(ma.Schema):
        name = ma.fields.String()

        def _serialize(self, obj, *, many=False):
            data = super()._serialize(obj, many=many)
            return data if many else {**data, "seen": True}

    with relied_on(
        "marshmallow",
        "Schema.dump writes each object through Schema._serialize(obj, many=...), which"
        " the reference dump overrides (the resource's links)",
        "tests/reference_dump.py",
    ):
        assert Shown().dump({"name": "a"}) == {"name": "a", "seen": True}
        assert list(Shown._declared_fields) == ["name"]
