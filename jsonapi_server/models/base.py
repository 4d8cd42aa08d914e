"""Column types and mixins shared by the models."""

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, ForeignKey, TypeDecorator, Uuid
from sqlalchemy.orm import Mapped, MappedColumn, mapped_column

from jsonapi_server.extensions import db
from jsonapi_server.times import truncate_to_millisecond, utc_now

# `mapped_column(..., info={HIDDEN: True})`: a column no document shows (a password hash);
# records (db.records), which only serve documents, never read it.
HIDDEN = "hidden"

if TYPE_CHECKING:
    # A type checker cannot take a base class from an attribute (`db.Model`, which
    # Flask-SQLAlchemy makes when `db` is made): to it, the models' base is a declarative one.
    from typing import ClassVar

    from sqlalchemy import Table
    from sqlalchemy.orm import DeclarativeBase

    class Model(DeclarativeBase):
        __table__: ClassVar[Table]  # each model names its table (no model maps a query)

else:
    Model = db.Model


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes kept to the millisecond, on PostgreSQL (timestamptz) and SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a UTC-aware one")
        return truncate_to_millisecond(value.astimezone(UTC))

    def result_processor(self, dialect, coltype):
        if dialect.name == "postgresql":
            # timestamptz arrives aware, in the session's zone, which is UTC (config.settings sets
            # it for every connection): nothing to do for each of a page's hundreds of values.
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect):
        # Not called on PostgreSQL (result_processor); SQLite and any other dialect come here.
        if value is None or value.tzinfo is UTC:
            return value
        if value.tzinfo is None:  # SQLite hands back what it was given, without the zone
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def reference(target: str, ondelete: str, **options: Any) -> MappedColumn[Any]:
    """A uuid column referring to `target` (`table.id`), with its ON DELETE action."""
    return mapped_column(Uuid, ForeignKey(target, ondelete=ondelete), **options)


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utc_now, onupdate=utc_now
    )


class Versioned:
    """A syncable row: `updated_in_db_at` is its version, set only by services.sync."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    updated_in_db_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
