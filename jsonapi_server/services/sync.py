"""Offline sync, once for every syncable resource: row versions (`updated_in_db_at`),
conditional writes against a base version, client-generated ids, pulls with an opaque cursor
that never passes a change still to commit, and tombstones of hard deletes."""

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from jsonapi_server.db import fetch_one, reads_clock_with_rows, record_of
from jsonapi_server.extensions import db
from jsonapi_server.models import DeletedRecord, DeletedRecordViewer
from jsonapi_server.times import truncate_to_millisecond, utc_now

from .errors import Conflict, DomainError, Invalid

ONE_MILLISECOND = timedelta(milliseconds=1)


class StaleUpdate(DomainError):
    """The client's base version is not the stored one; `current` is what is stored, as a
    record (the row the write holds, locked, not read again)."""

    status = 409
    code = "stale_update"

    def __init__(self, current: Any, *, precondition: bool):
        super().__init__(
            "This resource changed since the version your change is based on; "
            "`meta.current` holds it as it is now."
        )
        self.current = record_of(current)
        if precondition:  # the base came as If-Match
            self.status = 412


# The database clock (one clock for every server), as a column a statement of ours can carry
# where reads_clock_with_rows(); to be truncated to the millisecond, as database_now does.
DATABASE_CLOCK = func.clock_timestamp()
_CLOCK = select(DATABASE_CLOCK)


def database_now() -> datetime:
    """The database clock (one clock for every server), to the millisecond."""
    if reads_clock_with_rows():
        return truncate_to_millisecond(db.session.execute(_CLOCK).scalar_one())
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


class SyncableCreate:
    """The create every syncable resource makes, written once: the id a client may generate,
    a replay (the same id with the same content) answered with the stored row, the id taken
    by anything else refused (409 duplicate_id), a conflict of the service's own checks that
    a concurrent replay explains answered as that replay, and the row answered as read after
    its commit. `same(stored)` says whether a stored row is this create's."""

    def __init__(self, model: type, client_id: str | None, same: Callable[[Any], bool], include=()):
        self.model, self.same, self.include = model, same, include
        self.client_id = parse_client_id(client_id)
        self.id = self.client_id or uuid.uuid4()

    def replay(self) -> Any:
        """The stored row as the answer, when this create is a replay; None when it is new."""
        stored = replayed_create(self.model, self.client_id, self.same)
        return None if stored is None else self.answer(stored.id)

    def replay_or(self, conflict: Conflict) -> Any:
        """A check of the service found `conflict`: the answer of a concurrent replay, or the
        conflict raised."""
        return self.answer(replay_or(conflict, self.model, self.client_id, self.same).id)

    def committing(self, conflict: Conflict | None = None):
        """The write's commit guard (committing), for this create's row."""
        return committing(conflict, model=self.model, row_id=self.client_id, same=self.same)

    def answer(self, row_id: uuid.UUID | None = None) -> Any:
        """The created (or replayed) row, as read after the commit, with its includes."""
        return fetch_one(self.model, row_id or self.id, self.include)


def insert_or_nothing(table):
    """An INSERT of `table` that skips rows whose key exists (ON CONFLICT DO NOTHING), on
    PostgreSQL and on SQLite: a relationship written twice, at once or not, is written once."""
    dialect = db.session.get_bind().dialect.name
    module = sqlite if dialect == "sqlite" else postgresql
    return module.insert(table).on_conflict_do_nothing()


# The types whose hard deletes leave tombstones: each declared by its service (tombstoned).
TOMBSTONED_TYPES: list[str] = []


def tombstoned(deletable_type: str) -> str:
    """Declare that deleting a `deletable_type` resource leaves a tombstone (record_deletion);
    the type, for the service to name its tombstones by."""
    if deletable_type not in TOMBSTONED_TYPES:
        TOMBSTONED_TYPES.append(deletable_type)
    return deletable_type


def record_deletion(
    deletable_type: str,
    deletable_id: uuid.UUID,
    *,
    deleted_by_id: uuid.UUID,
    viewer_ids: Iterable[uuid.UUID],
    now: datetime,
) -> DeletedRecord:
    """Leave a tombstone of a hard delete for the users who could see the resource."""
    if deletable_type not in TOMBSTONED_TYPES:
        raise ValueError(f"{deletable_type}: declare it with sync.tombstoned first")
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
