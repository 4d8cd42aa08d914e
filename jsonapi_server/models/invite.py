"""Organization invites and the mail outbox."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jsonapi_server.times import utc_now

from .base import Model, UTCDateTime, UUIDPrimaryKey, Versioned, reference
from .organization import Organization
from .user import User


class OrganizationInvite(UUIDPrimaryKey, Versioned, Model):
    __tablename__ = "organization_invites"

    organization_id: Mapped[uuid.UUID] = reference("organizations.id", "CASCADE", nullable=False)
    recipient_email: Mapped[str] = mapped_column(String(254), nullable=False)
    invite_user_as: Mapped[str] = mapped_column(String(16), nullable=False)
    code: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_by_user_id: Mapped[uuid.UUID | None] = reference("users.id", "SET NULL")
    accepted_by_user_id: Mapped[uuid.UUID | None] = reference("users.id", "SET NULL")
    cancelled_by_user_id: Mapped[uuid.UUID | None] = reference("users.id", "SET NULL")

    organization: Mapped[Organization] = relationship(back_populates="invites", lazy="raise_on_sql")
    invited_by_user: Mapped[User | None] = relationship(
        foreign_keys=[invited_by_user_id], lazy="raise_on_sql"
    )
    accepted_by_user: Mapped[User | None] = relationship(
        foreign_keys=[accepted_by_user_id], lazy="raise_on_sql"
    )
    cancelled_by_user: Mapped[User | None] = relationship(
        foreign_keys=[cancelled_by_user_id], lazy="raise_on_sql"
    )

    __table_args__ = (
        # One open invite per address and organization: the database decides races.
        Index(
            "uq_organization_invites_open_recipient",
            "organization_id",
            "recipient_email",
            unique=True,
            postgresql_where=text("accepted_at IS NULL AND cancelled_at IS NULL"),
            sqlite_where=text("accepted_at IS NULL AND cancelled_at IS NULL"),
        ),
        Index(
            "ix_organization_invites_organization_id_created_at",
            "organization_id",
            "created_at",
        ),
        # The default listing (open invites, newest first) and its count: the count reads
        # this index alone (an index-only scan), not every invite row of the organization.
        Index(
            "ix_organization_invites_open_organization_id_created_at",
            "organization_id",
            "created_at",
            postgresql_where=text("cancelled_at IS NULL"),
            sqlite_where=text("cancelled_at IS NULL"),
        ),
        Index(
            "ix_organization_invites_organization_id_updated_in_db_at",
            "organization_id",
            "updated_in_db_at",
        ),
        CheckConstraint("invite_user_as IN ('admin', 'member')", name="invite_user_as"),
    )

    def status_at(self, now: datetime) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.cancelled_at is not None:
            return "cancelled"
        if self.expires_at <= now:
            return "expired"
        return "pending"

    @property
    def status(self) -> str:
        # The clock untruncated: an expiry is stored to the millisecond, so it is at or before
        # now exactly when it is at or before now truncated (and a page reads it per row).
        return self.status_at(datetime.now(UTC))

    def __repr__(self) -> str:  # never the code
        return f"<OrganizationInvite {self.id}>"


class OutboxMessage(UUIDPrimaryKey, Model):
    """An email written in the same transaction as the change that causes it."""

    __tablename__ = "outbox_messages"

    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    text_body: Mapped[str] = mapped_column(Text, nullable=False)
    html_body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a message cannot be delivered (a permanent error, or too many attempts).
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(
            "ix_outbox_messages_due",
            "next_attempt_at",
            postgresql_where=text("sent_at IS NULL AND dead_at IS NULL"),
            sqlite_where=text("sent_at IS NULL AND dead_at IS NULL"),
        ),
    )
