"""Passwords: changing one (with the current one; every other session is revoked) and
resetting a forgotten one through a single-use token mailed to the account's address."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, insert, select, update
from werkzeug.security import check_password_hash

from jsonapi_server.extensions import db
from jsonapi_server.models import EmailChange, PasswordReset, User
from jsonapi_server.times import utc_now

from . import one_time_codes, outbox, tokens
from .accounts import hash_password, normalize_email, own_account
from .errors import Conflict, Forbidden, Gone, Invalid


@dataclass(frozen=True)
class PasswordChange:
    """What `POST /password-changes` answers (nothing is stored but the new hash)."""

    id: uuid.UUID
    user_id: uuid.UUID
    changed_at: datetime


def check_current_password(user: User, password: str) -> None:
    """Refuse a request that does not prove the caller knows the account's password."""
    if not check_password_hash(user.password_hash, password):
        raise Forbidden(
            "The current password is wrong.",
            code="wrong_password",
            pointer="/data/attributes/current_password",
        )


def _forget_pending_changes(user_id: uuid.UUID, now: datetime) -> None:
    """A new password ends every open reset and email change: whoever started one with the
    old credentials cannot finish it."""
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    db.session.execute(
        delete(EmailChange).where(
            EmailChange.user_id == user_id, EmailChange.confirmed_at.is_(None)
        )
    )


def change_password(
    caller: User, current_password: str, new_password: str, *, keep_session: uuid.UUID
) -> PasswordChange:
    """Set a new password; every session of the account but `keep_session` is revoked."""
    user = own_account(caller)
    check_current_password(user, current_password)
    now = utc_now()
    user.password_hash = hash_password(new_password)
    _forget_pending_changes(user.id, now)
    tokens.revoke_sessions(user.id, keep=keep_session)
    db.session.commit()
    return PasswordChange(id=uuid.uuid4(), user_id=user.id, changed_at=now)


def request_reset(email: str) -> None:
    """Mail a reset token to the account with this address, if there is one. An unknown
    address costs the same work (a token, its email rendered, a row without a user, a
    commit) but no email, so neither the answer nor its time tells whether it exists."""
    address = normalize_email(email)
    user_id = db.session.scalar(select(User.id).where(User.email == address))
    token, now = one_time_codes.new_code(), utc_now()
    expires_at = now + timedelta(seconds=current_app.config["PASSWORD_RESET_TTL_SECONDS"])
    message = outbox.email(
        address,
        "Reset your password",
        "password_reset",
        reset_url=current_app.config["PASSWORD_RESET_URL_TEMPLATE"].format(token=token),
        expires_at_text=expires_at.strftime("%Y-%m-%d %H:%M UTC"),
    )
    row = {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "token_hash": one_time_codes.digest(token),
        "created_at": now,
        "expires_at": expires_at,
    }
    db.session.execute(insert(PasswordReset.__table__), [row])
    if user_id is not None:
        outbox.queue_emails([message])
    db.session.commit()


def reset_password(token: str, new_password: str) -> PasswordReset:
    """Set a new password with a mailed token, once: the row is locked, so of two concurrent
    uses one succeeds and the other finds it used (409). Every session of the account is
    revoked, and the address is verified (the token reached it)."""
    refused = Invalid(
        "No password reset has this token.", code="invalid_token", pointer="/data/attributes/token"
    )
    if not one_time_codes.well_formed(token):
        raise refused
    reset = db.session.scalars(
        select(PasswordReset)
        .where(PasswordReset.token_hash == one_time_codes.digest(token))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if (
        reset is None
        or reset.user_id is None
        or not one_time_codes.matches(token, reset.token_hash)
    ):
        raise refused
    now = utc_now()
    if reset.used_at is not None:
        raise Conflict("This password reset was used already.", code="password_reset_used")
    if reset.expires_at <= now:
        raise Gone("This password reset has expired.", code="password_reset_expired")
    user = db.session.get(User, reset.user_id)
    if user is None:
        raise refused
    user.password_hash = hash_password(new_password)
    user.is_verified = True
    _forget_pending_changes(user.id, now)
    reset.used_at = now
    tokens.revoke_sessions(user.id)
    db.session.commit()
    return reset
