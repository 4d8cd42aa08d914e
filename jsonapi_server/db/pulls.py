"""Pulls: a syncable listing's rows after a cursor, oldest first, never passing a change still
to commit (the horizon), with the opaque cursor of the next pull."""

import base64
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import Select, and_, bindparam, or_, text

from jsonapi_server.extensions import db
from jsonapi_server.times import parse_timestamp, truncate_to_millisecond, utc_now

from .connections import read_connection
from .cursor_reads import all_rows


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
    """SELECT greatest(
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
    DATABASE_CLOCK); elsewhere it is this process's, read at no cost. Asked of the engine: a
    pull reads on the request's own connection and need not make a session at all."""
    return db.engine.dialect.name == "postgresql"


def pull_horizon() -> datetime | None:
    """The version before which every change has committed, or None where none can be pending
    (SQLite: one writer at a time, whose change a reader sees only once committed)."""
    if not reads_clock_with_rows():
        return None
    longest = float(current_app.config["SYNC_SAFETY_WINDOW_SECONDS"])
    [(horizon,)] = all_rows(read_connection(), _PULL_HORIZON, {"longest_hold_back": longest})
    return horizon


def pull(rows_after: Callable[[dict], list], since: Cursor, size: int) -> PullResult:
    """Rows changed after `since` (`rows_after(parameters)` runs a pull_statement), oldest
    first, and the next pull's cursor. Only rows older than the horizon are delivered: a younger
    one may yet be joined, behind it, by a change still to commit. `has_more` says whether rows
    this pull could pass remain; a pull that delivers nothing leaves the cursor where it was."""
    horizon = pull_horizon()
    parameters = {"since_version": since.version, "pull_limit": size + 1}
    if since.id is not None:
        parameters["since_id"] = since.id
    rows = rows_after(parameters)
    if horizon is not None:
        # Rows come oldest first: those at or past the horizon are a suffix.
        while rows and rows[-1].updated_in_db_at >= horizon:
            rows.pop()
    has_more = len(rows) > size
    rows = rows[:size]
    if not rows:
        return PullResult(items=[], cursor=since.encode(), has_more=False)
    cursor = Cursor(rows[-1].updated_in_db_at, rows[-1].id)
    return PullResult(items=rows, cursor=cursor.encode(), has_more=has_more)
