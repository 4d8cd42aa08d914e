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
    """The version columns of a new row written as values: what stamp() gives an instance."""
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
    """Check a write against the client's base version (none: unconditional). `row` is read
    FOR UPDATE, so the version compared is the one the write replaces: of concurrent writers
    on one base, one writes and the others see its version. False: the base is stale but what
    was asked is stored already (a retry whose answer was lost): write nothing. A stale base
    asking for something else raises StaleUpdate."""
    if base is None or base == row.updated_in_db_at:
        return True
    if all(getattr(row, name) == value for name, value in requested.items()):
        return False
    raise StaleUpdate(row, precondition=precondition)


def check_precondition(row: Any, base: datetime | None) -> None:
    """If-Match on a delete or a state change: a stale base is 412 (`row` read FOR UPDATE)."""
    if base is not None and base != row.updated_in_db_at:
        raise StaleUpdate(row, precondition=True)


def apply_changes(row: Any, changes: Mapping[str, Any], now: datetime | None = None) -> None:
    """Set what differs and stamp a new version; nothing differs, nothing is written."""
    changed = {name: value for name, value in changes.items() if getattr(row, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(row, name, value)
        stamp(row, now or database_now())


@contextmanager
def committing(
    conflict: Conflict | None = None, replayed: Callable[[], bool] = lambda: False
) -> Iterator[None]:
    """Run a write and commit it. A unique index that fires (a race no check could see) is
    `conflict`, unless `replayed()` finds that a concurrent replay of a create won: then the
    write ends here without an error."""
    try:
        yield
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        if replayed():
            return
        if conflict is not None:
            raise conflict from error
        raise


class SyncableCreate:
    """The create every syncable resource makes: the id a client may generate, a replay (the
    same id, stored with the values `content` names) answered with the stored row, the id taken
    by anything else refused (409 duplicate_id), and the row answered as read after its commit."""

    def __init__(self, model: type, client_id: str | None, content: Mapping[str, Any], include=()):
        self.model, self.content, self.include = model, content, include
        try:
            self.client_id = None if client_id is None else uuid.UUID(client_id)
        except (ValueError, AttributeError, TypeError) as error:
            raise Invalid("A client-generated id must be a UUID.", pointer="/data/id") from error
        self.id = self.client_id or uuid.uuid4()

    def _replayed(self) -> bool:
        """Whether a row with the client's id is stored and is this create's (else 409)."""
        if self.client_id is None:
            return False
        stored = db.session.get(self.model, self.client_id)
        if stored is None:
            return False
        if any(getattr(stored, name) != value for name, value in self.content.items()):
            raise Conflict(
                "A resource with this id exists.", code="duplicate_id", pointer="/data/id"
            )
        return True

    def replay(self) -> Any:
        """The stored row as the answer, when this create is a replay; None when it is new."""
        return self.answer() if self._replayed() else None

    def replay_or(self, conflict: Conflict) -> Any:
        """A check of the service found `conflict`: when a concurrent create of the same id
        committed in between (its row is what the check found), a replay; else the conflict."""
        if not self._replayed():
            raise conflict
        return self.answer()

    def committing(self, conflict: Conflict | None = None):
        """committing(), where a concurrent replay of this create that won is the answer."""
        return committing(conflict, self._replayed)

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
    """Declare that deleting a `deletable_type` resource leaves a tombstone; returns the type."""
    if deletable_type not in TOMBSTONED_TYPES:
        TOMBSTONED_TYPES.append(deletable_type)
    return deletable_type


def record_deletion(
    deletable_type: str,
    deletable_id: uuid.UUID,
    *,
    deleted_by_id: uuid.UUID,
    viewer_ids: Iterable[uuid.UUID],
) -> None:
    """Leave a tombstone of a hard delete for the users who could see the resource."""
    if deletable_type not in TOMBSTONED_TYPES:
        raise ValueError(f"{deletable_type}: declare it with sync.tombstoned first")
    now = database_now()
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


def deleted_records_for(viewer_id: uuid.UUID) -> Select:
    """Tombstones shown to `viewer_id` (who could see the resource when it was deleted)."""
    return select(DeletedRecord).join(
        DeletedRecordViewer,
        and_(
            DeletedRecordViewer.deleted_record_id == DeletedRecord.id,
            DeletedRecordViewer.user_id == viewer_id,
        ),
    )
