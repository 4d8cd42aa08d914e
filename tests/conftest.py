"""Fixtures: a PostgreSQL database built by the migrations once per session, on which every
test runs as production does (its commits are real, its reads in autocommit and prepared) and
whose tables are emptied after each test; a client that validates every JSON:API response."""

import email
import email.policy
import json
import os
import socket
import uuid
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import flask_migrate
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from jsonapi_server import create_app
from jsonapi_server.config import normalize_database_url
from jsonapi_server.db.prepared import prepare_repeated_reads
from jsonapi_server.extensions import db
from jsonapi_server.jsonapi import JSONAPI_MEDIA_TYPE
from jsonapi_server.jsonapi.openapi import build_openapi, dasherized, openapi_path
from jsonapi_server.services import tokens

from .factories import SessionHolder, UserFactory
from .jsonapi_validation import validation_errors

SERVER_URL = normalize_database_url(
    os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
)

TEST_SETTINGS = {
    "TESTING": True,
    "JWT_SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
    # Hashing is deliberately slow in production (scrypt); tests need many accounts quickly.
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    # Rate limits have their own tests (test_rate_limits.py), with apps of their own.
    "RATELIMIT_ENABLED": False,
}


def database_url_for(name: str, server_url: str = SERVER_URL) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def scratch_database(prefix: str):
    """A new, empty PostgreSQL database, dropped afterwards."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield database_url_for(name)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class JsonApiClient(FlaskClient):
    """A test client that checks every response against the JSON:API rules it can see."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        check_response(response)
        check_status_documented(self.application, response)
        return response

    def send(self, method: str, url: str, document=None, *, headers=None, **kwargs):
        """Send `document` as a JSON:API body (a str is sent as it is)."""
        headers = {"Content-Type": JSONAPI_MEDIA_TYPE, **(headers or {})}
        body = document if isinstance(document, str | bytes) else json.dumps(document)
        if document is None:
            body = None
        return self.open(url, method=method, data=body, headers=headers, **kwargs)


def check_response(response) -> None:
    body = response.get_data()
    method = response.request.method
    if response.status_code in (204, 304) or method in ("OPTIONS", "HEAD"):
        assert body == b"", f"{response.status_code} to {method} has no body"
        if method != "HEAD":  # a HEAD answer names the media type its GET would have
            assert "Content-Type" not in response.headers, "no body, so no media type"
        return
    path = response.request.path
    if (path != "/" and not path.startswith("/api/")) or path.endswith("/openapi.json"):
        return
    if (path == "/api/v2/docs" or path.startswith("/api/v2/docs/")) and response.status_code < 400:
        return  # the HTML docs page and its assets (their errors are JSON:API)
    assert body, f"a {response.status_code} answer must have a body"
    assert response.headers["Content-Type"] == JSONAPI_MEDIA_TYPE, response.headers
    assert "Accept" in response.headers.get("Vary", "")
    document = json.loads(body)
    errors = validation_errors(document)
    assert not errors, f"not a valid JSON:API document: {errors}\n{document}"
    assert document["jsonapi"] == {"version": "1.1"}
    assert document["links"]["self"]
    if response.status_code >= 400:
        assert "errors" in document and "data" not in document
        assert all(e["status"] == str(response.status_code) for e in document["errors"])
        assert all(e.get("code") for e in document["errors"])


# What any operation may answer under its `default` response, beside the statuses it lists.
ANSWERED_AS_DEFAULT = {405, 406, 413, 500}


def check_status_documented(app, response) -> None:
    """Every status a test meets is one the OpenAPI document lists for that operation."""
    request = response.request
    try:
        rule, _ = app.url_map.bind("localhost").match(
            request.path, method=request.method, return_rule=True
        )
    except HTTPException:
        return  # no operation answered (no such URL, or not this method)
    if "openapi" not in app.extensions:
        app.extensions["openapi"] = build_openapi(app)
    paths = app.extensions["openapi"]["paths"]
    path = next(
        (p for p in (openapi_path(r)[0] for r in (rule.rule, dasherized(rule.rule))) if p in paths),
        None,
    )
    method = "get" if request.method == "HEAD" else request.method.lower()
    if path is None or method not in paths[path]:
        return
    responses = paths[path][method]["responses"]
    status = response.status_code
    assert str(status) in responses or (status in ANSWERED_AS_DEFAULT and "default" in responses), (
        f"{request.method} {path} answered {status}, which the OpenAPI document does not list"
    )


@pytest.fixture(scope="session")
def database_url():
    with scratch_database("jsonapi_server_test") as url:
        yield url


class Inbox:
    """An aiosmtpd handler that keeps what arrives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


class SmtpServer:
    """A real SMTP server on loopback; stop() and start() keep its port."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.inbox = Inbox()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop()


@pytest.fixture(scope="session")
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def inbox(smtp_server):
    smtp_server.inbox.messages.clear()
    return smtp_server.inbox.messages


@pytest.fixture(scope="session")
def app(database_url, smtp_server):
    mail_settings = {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_SUPPRESS_SEND": False,  # flask-mail would not send at all in TESTING mode
    }
    application = create_app(
        {**TEST_SETTINGS, **mail_settings, "SQLALCHEMY_DATABASE_URI": database_url}
    )
    application.test_client_class = JsonApiClient
    with application.app_context():
        flask_migrate.upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


def emptying_statement(metadata: sa.MetaData, dialect: sa.Dialect) -> str:
    """DELETE of every table's rows, dependents first (alembic_version is not the models'),
    then a count of the connections this database has left in a transaction, all in one round
    trip. DELETE, not TRUNCATE: TRUNCATE makes each table anew, which costs far more than
    deleting the few rows a test leaves."""
    tables = reversed(metadata.sorted_tables)
    deletes = [str(sa.delete(table).compile(dialect=dialect)) for table in tables]
    left_open = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid()"
        " AND state IN ('idle in transaction', 'idle in transaction (aborted)')"
    )
    return "; ".join([*deletes, left_open])


@pytest.fixture(autouse=True)
def empty_tables(app):
    """After each test every table is emptied: tests run on the application's own engine, and
    what they write is committed as production's writes are. A test that leaves a connection
    idle in a transaction fails: it would hold back other tests' pulls (services.sync)."""
    yield
    with app.app_context():
        engine = db.engine
    with engine.begin() as connection:
        left_open = connection.exec_driver_sql(
            emptying_statement(db.metadata, engine.dialect)
        ).scalar_one()
    assert left_open == 0, "the test left a connection idle in a transaction"


@pytest.fixture
def connection(app, empty_tables):
    """A connection of the test's own on the application's engine, in autocommit: each
    statement sees what has committed, and none leaves a transaction open."""
    with app.app_context():
        engine = db.engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as own:
        yield own


@pytest.fixture
def session(app, empty_tables):
    """The test's own session (separate from the ones requests use), for setup and checks.
    In autocommit, as the engine's reads are: a read through it leaves no transaction open
    (which would hold pulls back), and what it flushes is committed at once. Objects keep their
    values after a commit; `refresh` reads what a request changed since."""
    with app.app_context():
        engine = db.engine
    test_session = Session(
        bind=engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )
    SessionHolder.session = test_session
    yield test_session
    SessionHolder.session = None
    test_session.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def user(session):
    return UserFactory()


@pytest.fixture
def superadmin(session):
    return UserFactory(is_superadmin=True)


@pytest.fixture
def login(app):
    """`login(user)` -> Authorization headers with a fresh access token for `user`."""

    def headers_for(user) -> dict:
        with app.app_context():
            token_set = tokens.open_session(user)
        return {"Authorization": f"Bearer {token_set.access_token}"}

    return headers_for


@pytest.fixture
def count_queries(app):
    """`with count_queries() as queries:` records each SQL statement the app runs, whichever
    way it runs (cursor reads report their statements to the same engine events), without
    changing the way."""

    @contextmanager
    def counting():
        statements: list[str] = []

        def record(_conn, _cursor, statement, *_args):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "after_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "after_cursor_execute", record)

    return counting


class Api:
    """Builds organizations, members and channels through the API itself."""

    def __init__(self, client, login):
        self.client = client
        self.login = login

    def create_organization(self, owner, **attributes) -> dict:
        body = {"data": {"type": "organizations", "attributes": {"name": "Acme", **attributes}}}
        response = self.client.send(
            "POST", "/api/v2/organizations", body, headers=self.login(owner)
        )
        assert response.status_code == 201, response.json
        return response.json["data"]

    def add_member(self, organization_id, actor, user, role="member") -> dict:
        body = {
            "data": {
                "type": "memberships",
                "attributes": {"role": role},
                "relationships": {"user": {"data": {"type": "users", "id": str(user.id)}}},
            }
        }
        response = self.client.send(
            "POST",
            f"/api/v2/organizations/{organization_id}/memberships",
            body,
            headers=self.login(actor),
        )
        assert response.status_code == 201, response.json
        return response.json["data"]

    def create_channel(self, organization_id, actor, name="random", **attributes) -> dict:
        body = {"data": {"type": "channels", "attributes": {"name": name, **attributes}}}
        response = self.client.send(
            "POST",
            f"/api/v2/organizations/{organization_id}/channels",
            body,
            headers=self.login(actor),
        )
        assert response.status_code == 201, response.json
        return response.json["data"]


@pytest.fixture
def api(client, login):
    return Api(client, login)


@pytest.fixture
def deliver(app):
    """Run one outbox pass, as `flask outbox run --once` does."""
    from jsonapi_server.services import outbox

    def run() -> int:
        with app.app_context():
            return outbox.deliver_due()

    return run


@pytest.fixture
def make_app(database_url):
    """Another application (other settings) on the test database, with an engine of its own."""
    apps = []

    def build(**settings):
        application = create_app(
            {**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_url, **settings}
        )
        application.test_client_class = JsonApiClient
        apps.append(application)
        return application

    yield build
    for application in apps:
        with application.app_context():
            db.engine.dispose()


@pytest.fixture
def engine(database_url):
    """An engine of its own on the session's database, preparing repeated reads (prepared.py)."""
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg2://"))
    prepare_repeated_reads(engine)
    yield engine
    engine.dispose()
