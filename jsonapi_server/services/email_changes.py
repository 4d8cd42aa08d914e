"""Email changes: the new address is proven by a code mailed to it before the account moves
there; a pending change reserves nothing (the address must still be free when confirmed)."""

import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from jsonapi_server.extensions import db
from jsonapi_server.models import EmailChange, PasswordReset, User
from jsonapi_server.times import utc_now

from . import one_time_codes, outbox
from .accounts import email_taken, ensure_email_free, normalize_email, own_account
from .errors import Conflict, Forbidden, Gone, Invalid, NotFound
from .passwords import check_current_password
from .sync import committing


def request_email_change(caller: User, new_email: str, current_password: str) -> EmailChange:
    """Mail a code to `new_email`; it replaces any change of the caller's not yet confirmed."""
    user = own_account(caller)
    check_current_password(user, current_password)
    address = normalize_email(new_email)
    if address == user.email:
        raise Invalid(
            "This is the account's address already.",
            code="email_unchanged",
            pointer="/data/attributes/email",
        )
    ensure_email_free(address)
    code, now = one_time_codes.new_code(), utc_now()
    change = EmailChange(
        id=uuid.uuid4(),
        user_id=user.id,
        new_email=address,
        code_hash=one_time_codes.digest(code),
        created_at=now,
        expires_at=now + timedelta(seconds=current_app.config["EMAIL_CHANGE_TTL_SECONDS"]),
    )
    db.session.execute(
        delete(EmailChange).where(
            EmailChange.user_id == user.id, EmailChange.confirmed_at.is_(None)
        )
    )
    db.session.add(change)
    url = current_app.config["EMAIL_CHANGE_URL_TEMPLATE"].format(
        code=code, email_change_id=change.id
    )
    message = outbox.email(
        address,
        "Confirm your new email address",
        "email_change",
        confirm_url=url,
        code=code,
        expires_at_text=change.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
    )
    outbox.queue_emails([message])
    db.session.commit()
    return change


def confirm_email_change(caller: User, change_id: uuid.UUID, code: str) -> EmailChange:
    """Move the caller's account to the change's address, once: the row is locked, so of two
    concurrent confirmations one succeeds and the other finds it confirmed (409). The address
    is verified; reset tokens mailed to the old one stop working."""
    change = db.session.scalars(
        select(EmailChange)
        .where(EmailChange.id == change_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if change is None or change.user_id != caller.id:
        raise NotFound("No such email change.")
    if not one_time_codes.matches(code, change.code_hash):
        raise Forbidden(
            "The code does not match this email change.",
            code="invalid_code",
            pointer="/data/attributes/code",
        )
    now = utc_now()
    if change.confirmed_at is not None:
        raise Conflict("This email change was confirmed already.", code="email_change_confirmed")
    if change.expires_at <= now:
        raise Gone("This email change has expired.", code="email_change_expired")
    ensure_email_free(change.new_email, exclude=caller)
    user = own_account(caller)
    with committing(email_taken()):
        user.email = change.new_email
        user.is_verified = True
        change.confirmed_at = now
        db.session.execute(
            update(PasswordReset)
            .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
            .values(used_at=now)
        )
    return change
