"""Pooled connections are checked before use only after sitting idle (connections.py): a
connection in steady use costs no extra round trip, and a dead idle one is replaced unseen."""

import psycopg2
import pytest
from sqlalchemy import event, text

from jsonapi_server import create_app
from jsonapi_server.db.connections import RequestSession
from jsonapi_server.extensions import db

from .conftest import TEST_SETTINGS
from .factories import UserFactory


@pytest.fixture
def app_with_pool(database_url):
    apps = []

    def build(idle_seconds: float):
        app = create_app(
            {
                **TEST_SETTINGS,
                "SQLALCHEMY_DATABASE_URI": database_url,
                "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0},
                "DATABASE_PING_AFTER_IDLE_SECONDS": idle_seconds,
            }
        )
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def pooled_backend(app) -> int:
    """The server process behind the pool's one connection (returned to the pool after)."""
    with app.app_context():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        db.session.remove()
    return pid


def terminate(database_url: str, pid: int) -> None:
    connection = psycopg2.connect(database_url.replace("+psycopg2", ""))
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
    finally:
        connection.close()


def test_an_idle_connection_is_checked_and_a_dead_one_replaced(app_with_pool, database_url):
    app = app_with_pool(idle_seconds=0)
    pid = pooled_backend(app)
    terminate(database_url, pid)
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert pooled_backend(app) != pid


def test_a_connection_in_steady_use_is_not_checked(app_with_pool, database_url):
    app = app_with_pool(idle_seconds=3600)
    pid = pooled_backend(app)
    terminate(database_url, pid)
    client = app.test_client()
    # No check before use: the request meets the dead connection (readyz answers 503) ...
    assert client.get("/readyz").status_code == 503
    # ... and the pool, told of the disconnect, is replaced for the next one.
    assert client.get("/readyz").status_code == 200


def transaction_probe(app) -> None:
    """`/probe`: whether the request's second statement ran in the transaction of its first
    (in one transaction, now() is the transaction's start; each statement of an autocommit
    connection starts its own)."""

    def probe():
        db.session.execute(text("SELECT 1"))
        same = db.session.execute(text("SELECT now() < statement_timestamp()")).scalar()
        return {"one_transaction": same}

    app.add_url_rule("/probe", view_func=probe, methods=["GET", "HEAD", "POST", "DELETE"])


@pytest.mark.parametrize(
    ("method", "one_transaction"),
    [("GET", False), ("POST", True), ("DELETE", True), ("GET", False)],
)
def test_reads_run_in_autocommit_and_writes_in_a_transaction(
    app_with_pool, method, one_transaction
):
    app = app_with_pool(idle_seconds=3600)
    transaction_probe(app)
    client = app.test_client()
    for _ in range(2):  # the same pooled connection changes mode from request to request
        response = client.open("/probe", method=method)
        assert response.status_code == 200, response.data
        assert response.json == {"one_transaction": one_transaction}
        opposite = client.open("/probe", method="POST" if method == "GET" else "GET")
        assert opposite.json == {"one_transaction": not one_transaction}


def test_outside_a_request_connections_are_transactional(app_with_pool):
    app = app_with_pool(idle_seconds=3600)
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        assert db.session.execute(text("SELECT now() < statement_timestamp()")).scalar()
        db.session.remove()


def test_a_read_holds_one_pooled_connection_shared_with_the_session(
    make_app, api, login, session, monkeypatch
):
    """A GET reads its records on a connection of its own, not through the ORM session (a
    to-many include too); when it needs the session too (another user's account, read by
    services.accounts), the session works on that same connection: with a pool of one, both
    kinds of read answer instead of waiting for a second."""
    user, other = UserFactory(), UserFactory()
    organization = api.create_organization(user)
    api.add_member(organization["id"], user, other)
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 2})
    with app.app_context():
        engine = db.engine
    headers = login(user)  # signing in writes its session: before anything is counted
    checkouts, begun = [], []
    event.listen(engine, "checkout", lambda *_args: checkouts.append(1))
    listener = lambda _session, _transaction, connection: begun.append(connection)  # noqa: E731
    event.listen(RequestSession, "after_begin", listener)
    made = []
    session_init = RequestSession.__init__

    def counted_init(self, *args, **kwargs):
        made.append(self)
        session_init(self, *args, **kwargs)

    monkeypatch.setattr(RequestSession, "__init__", counted_init)
    client = app.test_client()
    base = f"/api/v2/organizations/{organization['id']}"
    try:
        records_only = client.get(f"{base}/invites?include=invited_by_user", headers=headers)
        assert records_only.status_code == 200, records_only.json
        assert (len(checkouts), begun, made) == (1, [], [])  # no session at all
        since = "2000-01-01T00:00:00.000Z"
        pull = client.get(f"{base}/invites?filter[updated_since]={since}", headers=headers)
        assert pull.status_code == 200, pull.json
        assert (len(checkouts), begun, made) == (2, [], [])
        to_many = client.get(f"{base}/channels?include=members", headers=headers)
        assert to_many.status_code == 200, to_many.json
        assert to_many.json["included"]  # the members, read as records
        assert (len(checkouts), begun, made) == (3, [], [])
        with_orm = client.get(f"/api/v2/users/{other.id}", headers=headers)
        assert with_orm.status_code == 200, with_orm.json
        assert len(checkouts) == 4 and len(begun) == 1  # one connection for the request
        assert engine.pool.checkedout() == 0  # returned when each request ended
    finally:
        event.remove(RequestSession, "after_begin", listener)
