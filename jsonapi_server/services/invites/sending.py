"""The email that sends an invite, the code and expiry each sending gives it, and resending."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import inspect as inspect_mapper

from jsonapi_server.db import fetch_one
from jsonapi_server.extensions import db
from jsonapi_server.models import Organization, OrganizationInvite, User

from .. import one_time_codes, outbox, sync
from ..errors import Conflict, TooSoon
from .reading import INVITE


def ttl() -> timedelta:
    return timedelta(seconds=current_app.config["INVITE_TTL_SECONDS"])


def resend_interval() -> timedelta:
    return timedelta(seconds=current_app.config["INVITE_RESEND_INTERVAL_SECONDS"])


def invitation(invite: Mapping[str, Any], organization_name: str, inviter: User) -> dict:
    """The outbox row of the email that sends `invite` (its column values)."""
    url = current_app.config["INVITE_URL_TEMPLATE"].format(
        code=invite["code"], invite_id=invite["id"], organization_id=invite["organization_id"]
    )
    return outbox.email(
        invite["recipient_email"],
        f"You are invited to join {organization_name}",
        "invite",
        organization_name=organization_name,
        inviter_name=inviter.full_name or inviter.email,
        role_label="an admin" if invite["invite_user_as"] == "admin" else "a member",
        accept_url=url,
        expires_at_text=invite["expires_at"].strftime("%Y-%m-%d %H:%M UTC"),
    )


def _column_values(instance: Any) -> dict[str, Any]:
    """An ORM instance's column values, as a row written as values holds them."""
    return {
        column.key: getattr(instance, column.key)
        for column in inspect_mapper(instance).mapper.column_attrs
    }


def refresh(invite: OrganizationInvite, organization_name: str, user: User, now: datetime) -> dict:
    """A new code (the old link stops working), a new expiry; and the email again, as an
    outbox row for the caller to queue."""
    invite.code = one_time_codes.new_code()
    invite.expires_at = now + ttl()
    invite.last_sent_at = now
    sync.stamp(invite, now)
    return invitation(_column_values(invite), organization_name, user)


def resend_invite(user, invite_id, *, organization_id=None, base=None, include=()):
    """Checks run in this order: 404/403, 409, 412, 429."""
    _, invite = INVITE.instance(user, invite_id, organization_id, "invite.manage")
    if invite.accepted_at is not None or invite.cancelled_at is not None:
        raise Conflict("Only a pending or expired invite can be resent.", code="invite_not_pending")
    sync.check_precondition(invite, base)
    now = sync.database_now()
    wait = invite.last_sent_at + resend_interval() - now
    if wait > timedelta(0):
        raise TooSoon(
            "An invite can be sent once a minute.",
            code="resend_too_soon",
            retry_after=max(1, int(wait.total_seconds() + 0.999)),
        )
    organization = db.session.get(Organization, invite.organization_id)
    assert organization is not None  # the invite's (a foreign key)
    outbox.queue_emails([refresh(invite, organization.name, user, now)])
    db.session.commit()
    return fetch_one(OrganizationInvite, invite_id, include)
