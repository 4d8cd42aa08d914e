"""The query budget of the requests clients make most (issue 6's W1 and W2), and that a
collection costs the same for 1 and for many items with every include asked for."""

import sys

import pytest
import sqlalchemy as sa

from jsonapi_server.db import prepared
from jsonapi_server.db.cursor_reads import all_rows
from jsonapi_server.extensions import db
from jsonapi_server.models import Membership

from .factories import UserFactory


@pytest.fixture
def org_with_invites(api, client, login, user, session):
    organization = api.create_organization(user)
    admins = UserFactory.create_batch(3)
    session.add_all(
        Membership(organization_id=organization["id"], user_id=a.id, role="admin") for a in admins
    )
    session.commit()

    def invite(count: int) -> list[dict]:
        created = []
        for number in range(count):
            email = f"budget-{number}-{id(created)}@example.com"
            body = {
                "data": {"type": "organization_invites", "attributes": {"recipient_email": email}}
            }
            response = client.send(
                "POST",
                f"/api/v2/organizations/{organization['id']}/invites",
                body,
                headers=login(admins[number % 3]),
            )
            created.append(response.json["data"])
        return created

    return organization, invite


def test_w1_a_page_of_invites_with_their_inviters_costs_2(
    client, login, user, org_with_invites, count_queries
):
    organization, invite = org_with_invites
    invite(60)
    url = (
        f"/api/v2/organizations/{organization['id']}/invites"
        "?page[number]=2&page[size]=25&include=invited_by_user"
    )
    headers = login(user)
    with count_queries() as statements:
        response = client.get(url, headers=headers)
    assert len(response.json["data"]) == 25
    # the caller with their token's revocation and their role in the organization; the page
    # with its count (a scalar subquery) and the inviters joined to it
    assert len(statements) == 2, statements
    # the check reads the caller's role only: not the organization with its counts
    assert not any("FROM channels" in statement for statement in statements), statements


def test_w2_one_invite_costs_2(client, login, user, org_with_invites, count_queries):
    organization, invite = org_with_invites
    [created] = invite(1)
    url = f"/api/v2/organizations/{organization['id']}/invites/{created['id']}"
    headers = login(user)
    with count_queries() as statements:
        assert client.get(url, headers=headers).status_code == 200
    # token revocation (with the caller); the invite with the caller's role in its organization
    assert len(statements) == 2, statements


# Invites of 20 other organizations (40 each, open), and 400 cancelled ones of `organization`.
OTHER_INVITES = sa.text(
    """
    WITH other AS (
        INSERT INTO organizations (id, name, owner_id, created_at, updated_at, updated_in_db_at)
        SELECT gen_random_uuid(), 'Other ' || n, :owner, now(), now(), now()
        FROM generate_series(1, 20) AS n
        RETURNING id
    ), invite AS (
        SELECT other.id AS organization_id, n, NULL::timestamptz AS cancelled_at
        FROM other, generate_series(1, 40) AS n
        UNION ALL
        SELECT CAST(:organization AS uuid), n, now() FROM generate_series(1, 400) AS n
    )
    INSERT INTO organization_invites (
        id, organization_id, recipient_email, invite_user_as, code, expires_at, last_sent_at,
        cancelled_at, created_at, updated_at, updated_in_db_at
    )
    SELECT gen_random_uuid(), organization_id, 'other-' || n || '@example.com', 'member',
        md5(random()::text) || md5(random()::text), now() + interval '7 days', now(),
        cancelled_at, now() - n * interval '1 second', now(), now()
    FROM invite
    """
)


def test_w1_reads_invites_through_an_index_whatever_the_table_holds(
    app, client, login, user, org_with_invites
):
    """The cost of W1 must not grow with the invites table: its statements find invites
    through an index. (Tables this small would be scanned anyway, so the planner is told to
    avoid sequential scans wherever an index can serve; one that still appears has none.)"""
    organization, invite = org_with_invites
    invite(30)
    recorded = []

    def record(_conn, _cursor, statement, parameters, *_args):
        recorded.append((statement, parameters))

    url = (
        f"/api/v2/organizations/{organization['id']}/invites"
        "?page[number]=2&page[size]=25&include=invited_by_user"
    )
    headers = login(user)
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "after_cursor_execute", record)
    try:
        assert client.get(url, headers=headers).status_code == 200
    finally:
        sa.event.remove(engine, "after_cursor_execute", record)
    invite_statements = [(s, p) for s, p in recorded if "FROM organization_invites" in s]
    assert invite_statements
    # Beside the page, the table holds what a large one does: other organizations' invites,
    # and this one's cancelled invites, which the open invites' index leaves out. The plans
    # are made on fresh statistics of it (autovacuum takes them at moments of its own, of
    # whatever rows the test running then had left) and with its visibility map set.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as maintenance:
        maintenance.execute(OTHER_INVITES, {"organization": organization["id"], "owner": user.id})
        maintenance.exec_driver_sql("VACUUM ANALYZE organization_invites")
    with engine.connect() as connection, connection.begin():
        cursor = connection.connection.dbapi_connection.cursor()
        cursor.execute("SET LOCAL enable_seqscan = off")
        for statement, parameters in invite_statements:
            cursor.execute("EXPLAIN " + statement, parameters)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan on organization_invites" not in plan, plan
            # the open invites' index serves the page and its count (which reads it alone)
            assert plan.count("ix_organization_invites_open_organization_id_created_at") == 2, plan
            assert "Index Only Scan using ix_organization_invites_open" in plan, plan


@pytest.mark.parametrize(
    "query",
    ["?include=invited_by_user", "?filter[updated_since]=2000-01-01T00:00:00Z&page[size]=100"],
    ids=["page", "pull"],
)
def test_counting_changes_nothing_of_the_way_reads_run(
    client, login, user, org_with_invites, count_queries, monkeypatch, query
):
    """Under count_queries every statement of a page of invites, or of a pull (its horizon
    too), is still run on the driver's cursor (db.cursor_reads.all_rows) as the EXECUTE of a
    prepared statement, and counted."""
    organization, invite = org_with_invites
    invite(3)
    ran = []
    execute = prepared.PreparedStatements.execute

    def recorded(self, cursor, statement, *args):
        executed = execute(self, cursor, statement, *args)
        ran.append((sys._getframe(1).f_code, statement, executed))
        return executed

    monkeypatch.setattr(prepared.PreparedStatements, "execute", recorded)
    url = f"/api/v2/organizations/{organization['id']}/invites{query}"
    headers = login(user)
    for _ in range(3):  # a statement is prepared on a connection that meets it again
        ran.clear()
        with count_queries() as statements:
            assert client.get(url, headers=headers).status_code == 200
    assert len(statements) == (3 if "updated_since" in query else 2), statements
    assert any("FROM organization_invites" in statement for statement in statements)
    assert ran == [(all_rows.__code__, statement, True) for statement in statements]


def test_w4_a_pull_of_invites_costs_3(client, login, user, org_with_invites, count_queries):
    organization, invite = org_with_invites
    invite(3)
    url = (
        f"/api/v2/organizations/{organization['id']}/invites"
        "?filter[updated_since]=2000-01-01T00:00:00Z&page[size]=100"
    )
    headers = login(user)
    with count_queries() as statements:
        document = client.get(url, headers=headers).json
    assert len(document["data"]) == 3
    # the caller with their revocation and role; the horizon no change still to commit can
    # come before, read before the rows; the rows
    assert len(statements) == 3, statements
    assert "pg_stat_activity" in statements[1]
    assert "FROM organization_invites" in statements[2]


def test_w3_creating_an_invite_costs_5(client, login, user, org_with_invites, count_queries):
    organization, _invite = org_with_invites
    body = {"data": {"type": "organization_invites", "attributes": {"recipient_email": "w3@x.org"}}}
    url = f"/api/v2/organizations/{organization['id']}/invites"
    headers = login(user)
    with count_queries() as statements:
        response = client.send("POST", url, body, headers=headers)
    assert response.status_code == 201, response.json
    # the caller with their revocation and role (as a reader's); whether the address is a
    # member's, the clock, an open invite to the address and the organization's name,
    # together; the invite and its email written; the invite read back for the answer
    assert len(statements) == 5, statements
    assert "callers_membership.role" in statements[0], statements[0]
    # the organization is not loaded: its name is all the create reads of it
    assert not any("organizations.owner_id" in statement for statement in statements)
    # Nothing the commit expired is loaded again to be read: not the caller (for the request
    # log's user id), not the invite (for its id, before it is read back).
    assert sum("FROM users" in statement for statement in statements) == 1, statements
    reads = [s for s in statements if s.startswith("SELECT") and "organization_invites" in s]
    assert len(reads) == 2, reads  # the address's open invite; the answer


@pytest.mark.parametrize("kind", ["organizations", "channels", "memberships", "invites"])
def test_a_created_resource_is_read_back_without_reloading_what_the_commit_expired(
    api, client, login, user, count_queries, kind
):
    organization = api.create_organization(user)
    base = f"/api/v2/organizations/{organization['id']}"
    url, data = {
        "organizations": ("/api/v2/organizations", {"attributes": {"name": "Another"}}),
        "channels": (f"{base}/channels", {"attributes": {"name": "random"}}),
        "memberships": (
            f"{base}/memberships",
            {"relationships": {"user": {"data": {"type": "users", "id": str(UserFactory().id)}}}},
        ),
        "invites": (f"{base}/invites", {"attributes": {"recipient_email": "new@x.org"}}),
    }[kind]
    resource_type = "organization_invites" if kind == "invites" else kind
    headers = login(user)
    with count_queries() as statements:
        response = client.send(
            "POST", url, {"data": {"type": resource_type, **data}}, headers=headers
        )
    assert response.status_code == 201, response.json
    # SQLAlchemy loads an expired instance by its primary key as `pk_1`; the answer is read
    # by id (fetch_again) in a statement of its own, once
    reads = [statement for statement in statements if f"FROM {resource_type} " in statement]
    assert not [statement for statement in reads if "%(pk_1)s" in statement], reads


@pytest.mark.parametrize(
    ("kind", "attributes"),
    [
        ("organizations", {"name": "Renamed"}),
        ("channels", {"description": "Renamed"}),
        ("memberships", {"role": "admin"}),
        ("organization_invites", {"invite_user_as": "admin"}),
    ],
)
def test_a_write_reads_its_resource_with_the_callers_role_in_one_locked_statement(
    api, client, login, user, count_queries, kind, attributes
):
    organization = api.create_organization(user)
    base = f"/api/v2/organizations/{organization['id']}"
    if kind == "organizations":
        url = f"/api/v2/organizations/{organization['id']}"
    elif kind == "channels":
        url = f"{base}/channels/{api.create_channel(organization['id'], user)['id']}"
    elif kind == "memberships":
        member = UserFactory()
        created = client.send(
            "POST",
            f"{base}/memberships",
            {
                "data": {
                    "type": "memberships",
                    "relationships": {"user": {"data": {"type": "users", "id": str(member.id)}}},
                }
            },
            headers=login(user),
        )
        url = f"{base}/memberships/{created.json['data']['id']}"
    else:
        created = client.send(
            "POST",
            f"{base}/invites",
            {"data": {"type": kind, "attributes": {"recipient_email": "locked@x.org"}}},
            headers=login(user),
        )
        url = f"{base}/invites/{created.json['data']['id']}"
    resource_id = url.rsplit("/", 1)[1]
    body = {"data": {"type": kind, "id": resource_id, "attributes": attributes}}
    headers = login(user)
    with count_queries() as statements:
        response = client.send("PATCH", url, body, headers=headers)
    assert response.status_code == 200, response.json
    written = next(i for i, statement in enumerate(statements) if statement.startswith("UPDATE"))
    before = statements[:written]
    # the caller (with their role, as a reader's), then the row locked with the caller's role
    # in its organization: no second read of the row, none of the organization for the role
    locked = [statement for statement in before if "FOR UPDATE" in statement]
    assert len(locked) == 1, before
    # the row's own table is the one locked (the caller's membership is only read)
    assert locked[0].rstrip().endswith(f"FOR UPDATE OF {kind}"), locked[0]
    assert "callers_membership.role" in locked[0], locked[0]
    reads_of_rows = [statement for statement in before[1:] if "FROM " in statement]
    assert reads_of_rows == locked, before


def test_statements_built_once_are_ones_sqlalchemy_can_cache():
    # A statement with no cache key (a VALUES list, say) is compiled anew at every execution:
    # building it once would then save nothing, and the compile costs more than the run.
    import importlib
    import pkgutil

    import jsonapi_server.services as services

    prefix = f"{services.__name__}."
    built_once = {
        f"{info.name.removeprefix(prefix)}.{name}": value
        for info in pkgutil.walk_packages(services.__path__, prefix)  # services.invites too
        for name, value in vars(importlib.import_module(info.name)).items()
        if isinstance(value, sa.Select)
    }
    assert len(built_once) >= 8, sorted(built_once)
    uncachable = [name for name, value in built_once.items() if value._generate_cache_key() is None]
    assert uncachable == []
