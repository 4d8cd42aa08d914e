"""Verifying an invite's code, accepting the invite, and signing up with the code."""

import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from jsonapi_server.db import fetch_one, read_one
from jsonapi_server.extensions import db
from jsonapi_server.models import Membership, OrganizationInvite, User

from .. import one_time_codes, sync
from ..accounts import email_taken, new_user, normalize_email
from ..errors import Conflict, Forbidden, Gone, Invalid, NotFound
from ..memberships import join_default_channel


def _check_open(invite: OrganizationInvite, now: datetime) -> None:
    status = invite.status_at(now)
    if status == "accepted":
        raise Conflict("This invite was accepted already.", code="invite_accepted")
    if status == "cancelled":
        raise Gone("This invite was cancelled.", code="invite_cancelled")
    if status == "expired":
        raise Gone("This invite has expired.", code="invite_expired")


def _codes_match(invite: OrganizationInvite, code: str) -> bool:
    return hmac.compare_digest(invite.code.encode(), str(code).encode())


def _join(invite: OrganizationInvite, user: User, now: datetime) -> None:
    """Make `user` a member with the invite's role, in the default channel. A former member's
    tombstone, then the channel, are locked (the order of every write); a concurrent add of a
    new member is decided by the unique (organization, user) index (the caller maps it)."""
    membership = db.session.scalar(
        select(Membership)
        .where(Membership.organization_id == invite.organization_id, Membership.user_id == user.id)
        .with_for_update()
    )
    if membership is None:
        membership = Membership(
            organization_id=invite.organization_id,
            user_id=user.id,
            role=invite.invite_user_as,
            created_by_id=invite.invited_by_user_id,
        )
        db.session.add(membership)
        sync.stamp(membership, now)
    elif membership.removed_at is not None:
        membership.removed_at = None
        membership.role = invite.invite_user_as
        sync.stamp(membership, now)
    join_default_channel(invite.organization_id, user.id, now)
    invite.accepted_at = now
    invite.accepted_by_user_id = user.id
    sync.stamp(invite, now)


def accept_invite(user, invite_id, code, *, organization_id=None, base=None, include=()):
    """The caller, whose email must be the recipient's, becomes a member. The row is locked,
    so of two concurrent accepts one succeeds and the other finds it accepted (409)."""
    invite = db.session.scalars(
        select(OrganizationInvite)
        .where(OrganizationInvite.id == invite_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if invite is None or organization_id not in (None, invite.organization_id):
        raise NotFound("No such invite.")
    if not _codes_match(invite, code):
        raise Forbidden(
            "The code does not match this invite.",
            code="invalid_code",
            pointer="/data/attributes/code",
        )
    if normalize_email(user.email) != invite.recipient_email:
        raise Forbidden("This invite is for another address.", code="recipient_mismatch")
    sync.check_precondition(invite, base)
    now = sync.database_now()
    _check_open(invite, now)
    with sync.committing(Conflict("You are a member already.", code="already_member")):
        _join(invite, user, now)
    return fetch_one(OrganizationInvite, invite_id, include)


@dataclass(frozen=True)
class Verification:
    """What a code is for (the public answer to `POST /invite-verifications`)."""

    id: uuid.UUID
    invite: OrganizationInvite
    recipient_has_account: bool

    def __getattr__(self, name: str):
        if name in ("recipient_email", "invite_user_as", "status", "expires_at", "organization"):
            return getattr(self.invite, name)
        if name == "invite_id":
            return self.invite.id
        if name == "organization_id":
            return self.invite.organization_id
        raise AttributeError(name)


_INVITE_BY_CODE = select(OrganizationInvite).where(OrganizationInvite.code == bindparam("code"))


def verify_code(code: str) -> Verification:
    """Who and what a code is for, before signing in or up (public)."""
    if not one_time_codes.well_formed(code):
        raise Invalid(
            "An invite code is 64 hexadecimal characters.", pointer="/data/attributes/code"
        )
    [invite] = read_one(_INVITE_BY_CODE, {"code": code}, include=["organization"])
    if invite is None or not _codes_match(invite, code):
        raise NotFound("No invite has this code.")
    _check_open(invite, sync.database_now())
    has_account = db.session.scalar(select(User.id).where(User.email == invite.recipient_email))
    return Verification(
        id=uuid.uuid4(), invite=invite, recipient_has_account=has_account is not None
    )


def register_with_invite(values: Mapping[str, Any], code: Any) -> User:
    """Sign up through an invitation: the code proves the mailbox, so the account is created
    verified, and the invite is accepted in the same transaction."""
    pointer = "/data/attributes/invite_code"
    if not one_time_codes.well_formed(code):
        raise Invalid("Not a valid invite code.", code="invalid_code", pointer=pointer)
    invite = db.session.scalar(
        select(OrganizationInvite).where(OrganizationInvite.code == code).with_for_update()
    )
    if invite is None or not _codes_match(invite, code):
        raise Invalid("No invite has this code.", code="invalid_code", pointer=pointer)
    now = sync.database_now()
    _check_open(invite, now)
    if normalize_email(values["email"]) != invite.recipient_email:
        raise Forbidden(
            "This invite is for another address.",
            code="recipient_mismatch",
            pointer="/data/attributes/email",
        )
    with sync.committing(email_taken()):
        user = new_user(**values, is_verified=True)
        db.session.flush()
        _join(invite, user, now)
    return user
