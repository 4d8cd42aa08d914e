"""Organizations, their memberships, channels and channel members."""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from jsonapi_server.times import utc_now

from .base import Model, UTCDateTime, UUIDPrimaryKey, Versioned, reference
from .user import User

if TYPE_CHECKING:  # invite.py imports this module
    from .invite import OrganizationInvite

ROLES = ("owner", "admin", "member")


class Membership(UUIDPrimaryKey, Versioned, Model):
    """A user's place in an organization; a removed one stays as a tombstone (`removed_at`)."""

    __tablename__ = "memberships"

    organization_id: Mapped[uuid.UUID] = reference("organizations.id", "CASCADE", nullable=False)
    user_id: Mapped[uuid.UUID] = reference("users.id", "CASCADE", nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[uuid.UUID | None] = reference("users.id", "SET NULL")

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise_on_sql")
    organization: Mapped["Organization"] = relationship(
        back_populates="memberships", lazy="raise_on_sql"
    )

    __table_args__ = (
        UniqueConstraint("organization_id", "user_id"),
        Index(
            "ix_memberships_organization_id_updated_in_db_at", "organization_id", "updated_in_db_at"
        ),
        CheckConstraint("role IN ('owner', 'admin', 'member')", name="role"),
    )


class ChannelMember(Model):
    __tablename__ = "channel_members"

    channel_id: Mapped[uuid.UUID] = reference("channels.id", "CASCADE", primary_key=True)
    user_id: Mapped[uuid.UUID] = reference("users.id", "CASCADE", primary_key=True, index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)


class Channel(UUIDPrimaryKey, Versioned, Model):
    __tablename__ = "channels"

    organization_id: Mapped[uuid.UUID] = reference("organizations.id", "CASCADE", nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    archived: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    owner_id: Mapped[uuid.UUID | None] = reference("users.id", "SET NULL")

    organization: Mapped["Organization"] = relationship(
        back_populates="channels", lazy="raise_on_sql"
    )
    owner: Mapped[User | None] = relationship(lazy="raise_on_sql")
    members: Mapped[list[User]] = relationship(
        secondary="channel_members", lazy="raise_on_sql", order_by=User.id, viewonly=True
    )

    __table_args__ = (
        # Names are unique per organization whatever their case: the database decides races.
        Index(
            "uq_channels_organization_id_lower_name",
            "organization_id",
            func.lower(name),
            unique=True,
        ),
        Index(
            "ix_channels_organization_id_updated_in_db_at", "organization_id", "updated_in_db_at"
        ),
    )


class Organization(UUIDPrimaryKey, Versioned, Model):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(254))
    industry: Mapped[str | None] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(100))
    logo_url: Mapped[str | None] = mapped_column(String(2048))
    owner_id: Mapped[uuid.UUID] = reference("users.id", "RESTRICT", nullable=False, index=True)

    owner: Mapped[User] = relationship(lazy="raise_on_sql")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organization",
        lazy="raise_on_sql",
        primaryjoin="and_(Membership.organization_id == Organization.id, "
        "Membership.removed_at.is_(None))",
        order_by="Membership.id",
        viewonly=True,
    )
    __table_args__ = (Index("ix_organizations_updated_in_db_at", "updated_in_db_at"),)

    invites: Mapped[list["OrganizationInvite"]] = relationship(
        back_populates="organization",
        lazy="raise_on_sql",
        viewonly=True,
        order_by="OrganizationInvite.id",
    )

    channels: Mapped[list[Channel]] = relationship(
        back_populates="organization",
        lazy="raise_on_sql",
        primaryjoin="and_(Channel.organization_id == Organization.id, Channel.archived.is_(False))",
        order_by="Channel.id",
        viewonly=True,
    )


def _count_of(model: type, *conditions: Any) -> Any:
    """A correlated count: it comes with the row, no query per item in a list."""
    return column_property(
        select(func.count()).where(*conditions).correlate_except(model).scalar_subquery()
    )


Organization.members_count = _count_of(
    Membership, Membership.organization_id == Organization.id, Membership.removed_at.is_(None)
)
Organization.channels_count = _count_of(
    Channel, Channel.organization_id == Organization.id, Channel.archived.is_(False)
)
Channel.members_count = _count_of(ChannelMember, ChannelMember.channel_id == Channel.id)


class DeletedRecord(UUIDPrimaryKey, Model):
    """A tombstone for a hard delete, shown in pulls to the users who could see the resource."""

    __tablename__ = "deleted_records"

    deletable_type: Mapped[str] = mapped_column(String(40), nullable=False)
    deletable_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_in_db_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    deleted_by_id: Mapped[uuid.UUID | None] = reference("users.id", "SET NULL")

    deleted_by: Mapped[User | None] = relationship(lazy="raise_on_sql")


class DeletedRecordViewer(Model):
    __tablename__ = "deleted_record_viewers"

    deleted_record_id: Mapped[uuid.UUID] = reference(
        "deleted_records.id", "CASCADE", primary_key=True
    )
    user_id: Mapped[uuid.UUID] = reference("users.id", "CASCADE", primary_key=True, index=True)
