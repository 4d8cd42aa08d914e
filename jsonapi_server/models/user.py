"""Accounts and revoked token sessions."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Index, String, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from jsonapi_server.times import utc_now

from .base import HIDDEN, Model, Timestamps, UTCDateTime, UUIDPrimaryKey, reference

EMAIL_MAX_LENGTH = 254


class User(UUIDPrimaryKey, Timestamps, Model):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False, info={HIDDEN: True})
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    username: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(32))
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    is_verified: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_superadmin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    __table_args__ = (
        # Usernames are unique whatever their case; NULL (no username) may repeat.
        Index("uq_users_username_lower", func.lower(username), unique=True),
    )

    @property
    def full_name(self) -> str:
        first, last = (self.first_name or "").strip(), (self.last_name or "").strip()
        return f"{first} {last}" if first and last else first or last

    def __repr__(self) -> str:  # never the password hash
        return f"<User {self.id}>"


class RevokedSession(Model):
    """A signed-out token session: its access and refresh tokens are refused everywhere."""

    __tablename__ = "revoked_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = reference("users.id", "CASCADE", nullable=False, index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    # After this the session's refresh token has expired by itself; the row may be purged.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
