"""Token sessions, and the one-time codes that change an account's email or reset its password
(kept only as hashes)."""

import uuid
from datetime import datetime

from sqlalchemy import String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jsonapi_server.times import utc_now

from .base import HIDDEN, Model, UTCDateTime, UUIDPrimaryKey, reference
from .user import EMAIL_MAX_LENGTH, User

DIGEST_LENGTH = 64  # SHA-256, in hex


class TokenSession(Model):
    """A signed-in session (the `sid` of its tokens): what lets a password change or reset
    revoke every session of an account, which the tokens alone do not name."""

    __tablename__ = "token_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = reference("users.id", "CASCADE", nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    # When its refresh token expires by itself: the row may be purged after.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


class EmailChange(UUIDPrimaryKey, Model):
    """A request to move an account to `new_email`, confirmed by the code mailed there."""

    __tablename__ = "email_changes"

    user_id: Mapped[uuid.UUID] = reference("users.id", "CASCADE", nullable=False, index=True)
    new_email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), nullable=False)
    code_hash: Mapped[str] = mapped_column(
        String(DIGEST_LENGTH), nullable=False, info={HIDDEN: True}
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:  # never the code's hash
        return f"<EmailChange {self.id}>"


class PasswordReset(UUIDPrimaryKey, Model):
    """A password-reset token mailed to an account. A request for an address with no account
    leaves a row without a user, which no token opens (see services.passwords)."""

    __tablename__ = "password_resets"

    user_id: Mapped[uuid.UUID | None] = reference("users.id", "CASCADE", index=True)
    token_hash: Mapped[str] = mapped_column(
        String(DIGEST_LENGTH), nullable=False, unique=True, info={HIDDEN: True}
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<PasswordReset {self.id}>"
