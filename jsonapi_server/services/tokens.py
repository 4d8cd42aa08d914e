"""Token sessions: a login opens a session whose access and refresh tokens share its id, and
records it; signing out records the session as revoked, which every server process sees at
once, and a password change or reset revokes every recorded session of the account."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import bindparam, delete, exists, insert, literal, select

from jsonapi_server.db import read_one
from jsonapi_server.extensions import db
from jsonapi_server.models import Organization, RevokedSession, TokenSession, User
from jsonapi_server.times import utc_now

from .permissions import caller_role, remember_role
from .sync import insert_or_nothing

SESSION_CLAIM = "sid"


@dataclass(frozen=True)
class TokenSet:
    id: uuid.UUID  # the session's
    user: User
    access_token: str
    refresh_token: str | None
    expires_in: int  # seconds the access token lives
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret

    @property
    def user_id(self) -> uuid.UUID:
        return self.user.id


def open_session(user: User) -> TokenSet:
    """New access and refresh tokens for `user`, bound to a new session (recorded, committed)."""
    session_id = uuid.uuid4()
    now = utc_now()
    db.session.add(
        TokenSession(
            id=session_id,
            user_id=user.id,
            created_at=now,
            expires_at=now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"],
        )
    )
    db.session.commit()
    refresh_token = create_refresh_token(
        identity=str(user.id), additional_claims={SESSION_CLAIM: str(session_id)}
    )
    return refresh_session(user, session_id, refresh_token)


def refresh_session(user: User, session_id: uuid.UUID, refresh_token: str) -> TokenSet:
    """A new access token in the session, with its refresh token (which is not rotated)."""
    claims = {SESSION_CLAIM: str(session_id)}
    return TokenSet(
        id=session_id,
        user=user,
        access_token=create_access_token(identity=str(user.id), additional_claims=claims),
        refresh_token=refresh_token,
        expires_in=int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()),
    )


def close_session(user: User, session_id: uuid.UUID, issued_at: datetime) -> None:
    """Revoke the session: its access and refresh tokens stop working everywhere. Revoking
    it again (concurrent sign-outs) changes nothing: the row is written once."""
    refresh_expiry = issued_at + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    db.session.execute(
        insert_or_nothing(RevokedSession.__table__).values(
            id=session_id,
            user_id=user.id,
            revoked_at=utc_now(),
            expires_at=max(refresh_expiry, utc_now()),
        )
    )
    db.session.execute(delete(TokenSession).where(TokenSession.id == session_id))
    db.session.commit()


def revoke_sessions(user_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> None:
    """Revoke every recorded session of the account but `keep`, in the caller's transaction
    (which commits it with the change that asks for it)."""
    now = utc_now()
    others = TokenSession.user_id == user_id
    if keep is not None:
        others &= TokenSession.id != keep
    unrevoked = ~exists().where(RevokedSession.id == TokenSession.id)
    db.session.execute(
        insert(RevokedSession).from_select(
            ["id", "user_id", "revoked_at", "expires_at"],
            select(
                TokenSession.id,
                TokenSession.user_id,
                literal(now, RevokedSession.revoked_at.type),
                TokenSession.expires_at,
            ).where(others, TokenSession.expires_at > now, unrevoked),
        )
    )
    db.session.execute(delete(TokenSession).where(others))


# Built once, run with parameters (every request runs one of them).
_REVOKED = exists().where(RevokedSession.id == bindparam("session_id")).label("revoked")
# With the caller's role in the organization the request names (when it exists), so that the
# permission check runs no statement of its own.
_USER = select(User).where(User.id == bindparam("user_id"))
_REVOCATION_AND_ROLE = (
    _REVOKED,
    exists().where(Organization.id == bindparam("organization_id")).label("organization"),
    caller_role(bindparam("organization_id")).label("role"),
)


def session_holder(
    user_id: uuid.UUID, session_id: uuid.UUID, *, organization_id: uuid.UUID | None = None
) -> tuple[User | None, bool]:
    """The token's user, as a record, and whether its session is revoked, in one statement;
    their role in `organization_id`, if given, comes along, remembered for the permission check."""
    parameters = {"user_id": user_id, "session_id": session_id, "organization_id": organization_id}
    user, revoked, organization_exists, role = read_one(
        _USER, parameters, columns=_REVOCATION_AND_ROLE
    )
    if user is None:
        return None, False
    if organization_exists and organization_id is not None:
        remember_role(user, organization_id, role)
    return user, bool(revoked)


def purge_expired_revocations() -> int:
    """Forget revocations (and records) of sessions that have expired by themselves anyway."""
    now = utc_now()
    removed = db.session.query(RevokedSession).filter(RevokedSession.expires_at < now).delete()
    db.session.query(TokenSession).filter(TokenSession.expires_at < now).delete()
    db.session.commit()
    return removed
