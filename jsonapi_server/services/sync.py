"""Offline sync, once for every syncable resource: row versions (`updated_in_db_at`),
conditional writes against a base version, client-generated ids, pulls with an opaque cursor
that never passes a change still to commit, and tombstones of hard deletes."""

import base64
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, and_, bindparam, func, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from jsonapi_server.connections import read_connection
from jsonapi_server.extensions import db
from jsonapi_server.jsonapi.timestamps import parse_timestamp, truncate_to_millisecond, utc_now
from jsonapi_server.models import DeletedRecord, DeletedRecordViewer

from .errors import Conflict, DomainError, Invalid

ONE_MILLISECOND = timedelta(milliseconds=1)


class StaleUpdate(DomainError):
    """The client's base version is not the stored one; `current` is what is stored."""

    status = 409
    code = "stale_update"

    def __init__(self, current: Any, *, precondition: bool):
        super().__init__(
            "This resource changed since the version your change is based on; "
            "`meta.current` holds it as it is now."
        )
        self.current = current
        if precondition:  # the base came as If-Match
            self.status = 412


# The database clock (one clock for every server), as a column a statement of ours can carry
# where reads_clock_with_rows(); to be truncated to the millisecond, as database_now does.
DATABASE_CLOCK = func.clock_timestamp()
_CLOCK = select(DATABASE_CLOCK)


def database_now() -> datetime:
    """The database clock (one clock for every server), to the millisecond."""
    if reads_clock_with_rows():
        return truncate_to_millisecond(db.session.scalar(_CLOCK))
    return utc_now()


def first_version(now: datetime) -> dict[str, datetime]:
    """The version columns of a row written as values, not as an ORM instance: what stamp()
    gives a new row."""
    return {"created_at": now, "updated_at": now, "updated_in_db_at": now}


def stamp(row: Any, now: datetime) -> None:
    """Give `row` its next version: `now`, or 1 ms past its last version if that is later."""
    current = row.updated_in_db_at
    version = now if current is None or now > current else current + ONE_MILLISECOND
    row.updated_in_db_at = row.updated_at = version
    if row.created_at is None:
        row.created_at = version


def write_needed(
    row: Any, base: datetime | None, requested: Mapping[str, Any], *, precondition: bool
) -> bool:
    """Check a write against the client's base version. `row` must have been read with a
    lock (FOR UPDATE) in this transaction, so that the version compared is the one the write
    replaces: of concurrent writers on one base, one writes and the others see its version.

    True: go ahead. False: the base is stale but what was asked for is already stored (a retry
    whose first answer was lost), so answer with the stored row and write nothing. A stale base
    asking for something else raises StaleUpdate. No base: unconditional."""
    if base is None or base == row.updated_in_db_at:
        return True
    if all(getattr(row, name) == value for name, value in requested.items()):
        return False
    raise StaleUpdate(row, precondition=precondition)


def check_precondition(row: Any, base: datetime | None) -> None:
    """If-Match on a delete or a state change: a stale base is 412 (`row` read with a lock,
    as for write_needed)."""
    if base is not None and base != row.updated_in_db_at:
        raise StaleUpdate(row, precondition=True)


def apply_changes(row: Any, changes: Mapping[str, Any], now: datetime | None = None) -> bool:
    """Set what differs and stamp a new version; nothing differs, nothing is written."""
    changed = {name: value for name, value in changes.items() if getattr(row, name) != value}
    if not changed:
        return False
    for name, value in changed.items():
        setattr(row, name, value)
    stamp(row, now or database_now())
    return True


def parse_client_id(client_id: str | None) -> uuid.UUID | None:
    if client_id is None:
        return None
    try:
        return uuid.UUID(client_id)
    except (ValueError, AttributeError, TypeError) as error:
        raise Invalid("A client-generated id must be a UUID.", pointer="/data/id") from error


def _duplicate_id() -> Conflict:
    return Conflict("A resource with this id exists.", code="duplicate_id", pointer="/data/id")


def replayed_create(model: type, client_id: uuid.UUID | None, same: Callable[[Any], bool]):
    """The stored row when a create with this client id is a replay; None when the id is new.
    Any other existing row with the id is 409 duplicate_id."""
    if client_id is None:
        return None
    existing = db.session.get(model, client_id)
    if existing is None:
        return None
    if same(existing):
        return existing
    raise _duplicate_id()


def replay_or(conflict: Conflict, model: type, client_id: uuid.UUID | None, same):
    """A create's own check found `conflict` after replayed_create found no row: when a
    concurrent create of the same client id committed in between (its row is what the check
    found), this create is a replay like any other; else the conflict stands."""
    replay = replayed_create(model, client_id, same)
    if replay is None:
        raise conflict
    return replay


@contextmanager
def committing(
    conflict: Conflict | None = None,
    *,
    model: type | None = None,
    row_id=None,
    same: Callable[[Any], bool] | None = None,
) -> Iterator[None]:
    """Run a write and commit it. A unique index that fires (a race no check could see) is
    `conflict`; when the row `model`/`row_id` exists by then, a concurrent create of the same
    client id won: a replay (`same(stored)`, the check replayed_create makes) ends here
    without an error, the stored row being the create's answer; anything else is 409
    duplicate_id."""
    try:
        yield
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        stored = db.session.get(model, row_id) if model is not None and row_id else None
        if stored is not None:
            if same is not None and same(stored):
                return
            raise _duplicate_id() from error
        if conflict is not None:
            raise conflict from error
        raise


def insert_or_nothing(table):
    """An INSERT of `table` that skips rows whose key exists (ON CONFLICT DO NOTHING), on
    PostgreSQL and on SQLite: a relationship written twice, at once or not, is written once."""
    dialect = db.session.get_bind().dialect.name
    module = sqlite if dialect == "sqlite" else postgresql
    return module.insert(table).on_conflict_do_nothing()


# -- pulls ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A position in version order: after (version, id); id None means after every row of it."""

    version: datetime
    id: uuid.UUID | None = None

    def encode(self) -> str:
        milliseconds = int(self.version.timestamp() * 1000)
        text = f"{milliseconds}:{self.id.hex if self.id else ''}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def parse_since(raw: str) -> Cursor:
    """`filter[updated_since]`: a cursor from an earlier pull, or a timestamp to start from."""
    text = raw.strip()
    with suppress(ValueError):  # not a timestamp: perhaps a cursor
        return Cursor(parse_timestamp(text))
    try:
        padded = text + "=" * (-len(text) % 4)
        milliseconds, _, hex_id = base64.urlsafe_b64decode(padded).decode().partition(":")
        version = datetime.fromtimestamp(int(milliseconds) / 1000, tz=utc_now().tzinfo)
        return Cursor(truncate_to_millisecond(version), uuid.UUID(hex_id) if hex_id else None)
    except (ValueError, UnicodeDecodeError, OverflowError, OSError) as error:
        raise ValueError("not a cursor from an earlier pull, nor an RFC 3339 timestamp") from error


@dataclass(frozen=True)
class PullResult:
    items: list
    cursor: str
    has_more: bool


def pull_statement(statement: Select, version_column, id_column, *, after_id: bool) -> Select:
    """`statement`'s rows after a cursor, oldest first. The cursor's version and (with
    `after_id`) id, and the number of rows, are parameters: `pull` gives their values."""
    after = version_column > bindparam("since_version")
    if after_id:
        after = or_(
            after,
            and_(version_column == bindparam("since_version"), id_column > bindparam("since_id")),
        )
    return statement.where(after).order_by(version_column, id_column).limit(bindparam("pull_limit"))


# Every version is the database clock read inside the transaction that writes it, so a change
# not yet committed carries a version no earlier than its transaction's start, and one that has
# not begun will carry a later one still. Versions before the oldest start of a transaction now
# open in this database (other than the pull's own) are therefore final: nothing can commit
# behind them. Every client backend counts, not only those holding a transaction id, because a
# writer reads the clock before its first write gives it one. A transaction open longer than
# the longest hold-back no longer holds pulls back (write transactions are bounded far below it
# by the statement and idle-in-transaction timeouts). Read before the rows, in a statement of
# its own: a writer that commits after it began is still listed, or began after it.
_PULL_HORIZON = text(
    """
    SELECT greatest(
        date_trunc('milliseconds', least(clock_timestamp(), (
            SELECT min(xact_start) FROM pg_stat_activity
            WHERE datname = current_database()
              AND backend_type = 'client backend'
              AND pid <> pg_backend_pid()
        ))),
        date_trunc('milliseconds', clock_timestamp())
            - make_interval(secs => :longest_hold_back)
    )
    """
)


def reads_clock_with_rows() -> bool:
    """Whether the database gives its clock in statements (PostgreSQL: writes carry
    DATABASE_CLOCK); elsewhere the clock is this process's, read at no cost. Asked of the
    engine, not the session: a pull reads records on the request's own connection and need not
    make a session at all."""
    return db.engine.dialect.name == "postgresql"


def pull_horizon() -> datetime | None:
    """The version before which every change has committed, or None where none can be pending
    (SQLite: one writer at a time, whose change a reader sees only once committed)."""
    if not reads_clock_with_rows():
        return None
    longest = float(current_app.config["SYNC_SAFETY_WINDOW_SECONDS"])
    return read_connection().execute(_PULL_HORIZON, {"longest_hold_back": longest}).scalar_one()


def pull(rows_after: Callable[[dict], list], since: Cursor, size: int) -> PullResult:
    """Rows changed after `since`, oldest first, and the cursor of the next pull.
    `rows_after(parameters)` runs a pull_statement with the parameters given.

    Only rows older than the horizon are delivered: a younger one may yet be joined, behind
    it, by a change still to commit. Rows come in version order, so those delivered are a
    prefix, the cursor moves past each page it delivers, and `has_more` says whether rows this
    pull could pass remain. A pull that delivers nothing leaves the cursor where it was."""
    horizon = pull_horizon()
    parameters = {"since_version": since.version, "pull_limit": size + 1}
    if since.id is not None:
        parameters["since_id"] = since.id
    rows = rows_after(parameters)
    if horizon is not None:
        rows = [row for row in rows if row.updated_in_db_at < horizon]
    has_more = len(rows) > size
    rows = rows[:size]
    if not rows:
        return PullResult(items=[], cursor=since.encode(), has_more=False)
    cursor = Cursor(rows[-1].updated_in_db_at, rows[-1].id)
    return PullResult(items=rows, cursor=cursor.encode(), has_more=has_more)


def record_deletion(
    deletable_type: str,
    deletable_id: uuid.UUID,
    *,
    deleted_by_id: uuid.UUID,
    viewer_ids: Iterable[uuid.UUID],
    now: datetime,
) -> DeletedRecord:
    """Leave a tombstone of a hard delete for the users who could see the resource."""
    record = DeletedRecord(
        deletable_type=deletable_type,
        deletable_id=deletable_id,
        deleted_at=now,
        updated_in_db_at=now,
        deleted_by_id=deleted_by_id,
    )
    db.session.add(record)
    db.session.flush()
    db.session.add_all(
        DeletedRecordViewer(deleted_record_id=record.id, user_id=user_id)
        for user_id in set(viewer_ids)
    )
    return record


def deleted_records_for(viewer_id: uuid.UUID) -> Select:
    """Tombstones shown to `viewer_id` (who could see the resource when it was deleted)."""
    return select(DeletedRecord).join(
        DeletedRecordViewer,
        and_(
            DeletedRecordViewer.deleted_record_id == DeletedRecord.id,
            DeletedRecordViewer.user_id == viewer_id,
        ),
    )
