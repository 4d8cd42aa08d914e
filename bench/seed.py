"""Seeding the benchmark database with COPY: 1,000 users, 100 organizations with 1,000 invites
each, and one big organization holding 2,000 invites (seconds, not minutes)."""

import io
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg2

USERS, ORGANIZATIONS, INVITES_EACH, BIG_INVITES = 1000, 100, 1000, 2000
SEEDED_INVITES = ORGANIZATIONS * INVITES_EACH + BIG_INVITES
PASSWORD_HASH = "pbkdf2:sha256:1000$bench$" + "0" * 64  # nobody signs in with a password


@dataclass
class Seeded:
    users: list[uuid.UUID] = field(default_factory=list)
    organizations: list[uuid.UUID] = field(default_factory=list)
    big_organization: uuid.UUID | None = None
    big_invites: list[uuid.UUID] = field(default_factory=list)
    owner: uuid.UUID | None = None  # owns the big organization; admin of every other one
    pull_since: str = ""


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if value is None else str(value) for value in row) + "\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def seed(
    dsn: str,
    *,
    users: int = USERS,
    organizations: int = ORGANIZATIONS,
    invites_each: int = INVITES_EACH,
    big_invites: int = BIG_INVITES,
) -> Seeded:
    result = Seeded()
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def at(seconds: float) -> str:
        return (start + timedelta(seconds=seconds)).isoformat()

    result.users = [uuid.uuid4() for _ in range(users)]
    result.owner = result.users[0]
    user_rows = [
        (
            u,
            f"user{n}@bench.test",
            PASSWORD_HASH,
            f"First{n}",
            f"Last{n}",
            True,
            n == 0,
            at(n),
            at(n),
        )
        for n, u in enumerate(result.users)
    ]
    result.organizations = [uuid.uuid4() for _ in range(organizations)]
    result.big_organization = uuid.uuid4()
    all_orgs = [*result.organizations, result.big_organization]
    org_rows, membership_rows, channel_rows, invite_rows = [], [], [], []
    for n, org in enumerate(all_orgs):
        owner = (
            result.owner if org == result.big_organization else result.users[1 + n % (users - 1)]
        )
        org_rows.append((org, f"Organization {n}", owner, at(n), at(n), at(n)))
        members = {owner: "owner", result.owner: "admin"}
        for k in range(10):  # ten admins who invite
            members.setdefault(result.users[(n * 10 + k) % users], "admin")
        for user_id, role in members.items():
            membership_rows.append((uuid.uuid4(), org, user_id, role, at(n), at(n), at(n)))
        channel_rows.append((uuid.uuid4(), org, "general", False, owner, at(n), at(n), at(n)))
        inviters = [u for u, role in members.items() if role != "member"]
        count = big_invites if org == result.big_organization else invites_each
        for k in range(count):
            invite_id = uuid.uuid4()
            moment = at(1_000 + n * 3_600 + k)
            invite_rows.append(
                (
                    invite_id,
                    org,
                    f"guest{k}.org{n}@bench.test",
                    "member" if k % 3 else "admin",
                    uuid.uuid4().hex + uuid.uuid4().hex,
                    at(10**8),
                    moment,
                    inviters[k % len(inviters)],
                    moment,
                    moment,
                    moment,
                )
            )
            if org == result.big_organization:
                result.big_invites.append(invite_id)
    since = start + timedelta(seconds=1_000 + (len(all_orgs) - 1) * 3_600 + big_invites - 500)
    result.pull_since = since.strftime("%Y-%m-%dT%H:%M:%SZ")

    with closing(psycopg2.connect(dsn)) as connection, connection, connection.cursor() as cursor:
        _copy(
            cursor,
            "users",
            [
                "id",
                "email",
                "password_hash",
                "first_name",
                "last_name",
                "is_verified",
                "is_superadmin",
                "created_at",
                "updated_at",
            ],
            user_rows,
        )
        _copy(
            cursor,
            "organizations",
            ["id", "name", "owner_id", "created_at", "updated_at", "updated_in_db_at"],
            org_rows,
        )
        _copy(
            cursor,
            "memberships",
            [
                "id",
                "organization_id",
                "user_id",
                "role",
                "created_at",
                "updated_at",
                "updated_in_db_at",
            ],
            membership_rows,
        )
        _copy(
            cursor,
            "channels",
            [
                "id",
                "organization_id",
                "name",
                "archived",
                "owner_id",
                "created_at",
                "updated_at",
                "updated_in_db_at",
            ],
            channel_rows,
        )
        _copy(
            cursor,
            "organization_invites",
            [
                "id",
                "organization_id",
                "recipient_email",
                "invite_user_as",
                "code",
                "expires_at",
                "last_sent_at",
                "invited_by_user_id",
                "created_at",
                "updated_at",
                "updated_in_db_at",
            ],
            invite_rows,
        )
    vacuum(dsn)
    return result


def vacuum(dsn: str) -> None:
    """VACUUM ANALYZE, as autovacuum keeps a live database: statistics for the planner, and
    the visibility map that lets index-only scans (a listing's count) skip the table."""
    with closing(psycopg2.connect(dsn)) as connection:
        connection.autocommit = True  # VACUUM runs outside a transaction
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def top_up_invites(dsn: str, total: int) -> int:
    """Add invites to every organization but the big one until the table holds `total`
    (generated inside PostgreSQL: a million rows take seconds). Returns the new count."""
    with closing(psycopg2.connect(dsn)) as connection, connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM organization_invites")
        missing = total - cursor.fetchone()[0]
        cursor.execute(
            "SELECT id FROM organizations o WHERE (SELECT count(*) FROM organization_invites i"
            " WHERE i.organization_id = o.id) < %s",
            (BIG_INVITES,),
        )
        small = [row[0] for row in cursor.fetchall()]
        if missing > 0 and small:
            each = -(-missing // len(small))
            cursor.execute(
                """
                INSERT INTO organization_invites (
                    id, organization_id, recipient_email, invite_user_as, code, expires_at,
                    last_sent_at, invited_by_user_id, created_at, updated_at, updated_in_db_at)
                SELECT gen_random_uuid(), o.id, 'extra' || g || '.' || o.id || '@bench.test',
                       'member', md5(o.id::text || g) || md5(g || o.id::text),
                       timestamptz '2030-01-01', t.at, o.owner_id, t.at, t.at, t.at
                FROM organizations o
                CROSS JOIN generate_series(1, %s) AS g
                CROSS JOIN LATERAL (
                    SELECT timestamptz '2025-01-01' + g * interval '1 second' AS at) AS t
                WHERE o.id::text = ANY(%s)
                """,
                (each, [str(id_) for id_ in small]),
            )
        cursor.execute("SELECT count(*) FROM organization_invites")
        total = cursor.fetchone()[0]
    vacuum(dsn)
    return total
