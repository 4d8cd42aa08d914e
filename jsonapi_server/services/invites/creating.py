"""Creating invites, one or a batch of them, each sent in the transaction that writes it."""

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, literal_column, select

from jsonapi_server.db import read_rows, reads_clock_with_rows
from jsonapi_server.extensions import db
from jsonapi_server.models import Membership, Organization, OrganizationInvite, User
from jsonapi_server.times import truncate_to_millisecond

from .. import one_time_codes, outbox, sync
from ..accounts import normalize_email
from ..errors import Conflict
from ..organizations import ORGANIZATION
from ..permissions import require_right
from .sending import invitation, refresh, resend_interval, ttl

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class BatchOutcome:
    """What a batch did (an `invite_batches` resource: answered once, not stored)."""

    recipient_emails: list
    invite_user_as: str
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    invites: list = field(default_factory=list)
    created_count: int = 0
    resent_count: int = 0
    errors: list = field(default_factory=list)


# Built once, run with parameters: every invite written runs them.
_MEMBER_WITH_ADDRESS = (
    select(Membership.id)
    .join(User, User.id == Membership.user_id)
    .where(
        Membership.organization_id == bindparam("organization_id"),
        Membership.removed_at.is_(None),
        User.email == bindparam("email"),
    )
)
_OPEN_TO_ADDRESS = and_(
    OrganizationInvite.organization_id == bindparam("organization_id"),
    OrganizationInvite.recipient_email == bindparam("email"),
    OrganizationInvite.accepted_at.is_(None),
    OrganizationInvite.cancelled_at.is_(None),
)
# Locked: a batch re-sends it (its resend interval checked on the row it replaces).
_OPEN_INVITE_TO_ADDRESS = (
    select(OrganizationInvite)
    .where(_OPEN_TO_ADDRESS)
    .with_for_update()
    .execution_options(populate_existing=True)
)
_OPEN_INVITE_EXPIRY = select(OrganizationInvite.id, OrganizationInvite.expires_at).where(
    _OPEN_TO_ADDRESS
)
_ORGANIZATION_NAME = select(Organization.name).where(
    Organization.id == bindparam("organization_id")
)
# What creating an invite checks first, in one statement (PostgreSQL): whether the address is
# a member's, the database clock, the id and expiry of the address's open invite (Nones:
# outer-joined to one row, it found nothing) and the organization's name (for the email).
_ADDRESS_STATE = (
    select(
        _MEMBER_WITH_ADDRESS.exists().label("member"),
        sync.DATABASE_CLOCK.label("now"),
        OrganizationInvite.id,
        OrganizationInvite.expires_at,
        _ORGANIZATION_NAME.scalar_subquery().label("organization_name"),
    )
    # (a VALUES list would make it a statement SQLAlchemy cannot cache, compiled every time)
    .select_from(select(literal_column("1").label("one")).subquery("one_row"))
    .outerjoin(OrganizationInvite, _OPEN_TO_ADDRESS)
)
_ALREADY_MEMBER = ("already_member", "This address belongs to a member already.")


@dataclass(frozen=True)
class _AddressState:
    """What creating an invite to an address checks first."""

    member: bool  # the address is a member's
    now: datetime  # the database clock (sync.database_now)
    open_invite_id: Any  # the address's open invite, or None
    open_invite_expires_at: datetime | None
    organization_name: str  # for the email


def _address_state(organization_id, email: str) -> _AddressState:
    """One round trip on PostgreSQL instead of four, read as plain values (the open invite is
    loaded as an ORM instance only when it has expired and must give way)."""
    parameters = {"organization_id": organization_id, "email": email}
    if not reads_clock_with_rows():
        member = db.session.scalar(_MEMBER_WITH_ADDRESS, parameters) is not None
        open_invite = db.session.execute(_OPEN_INVITE_EXPIRY, parameters).first()
        invite_id, expires_at = open_invite or (None, None)
        name = db.session.execute(_ORGANIZATION_NAME, parameters).scalar_one()
        return _AddressState(member, sync.database_now(), invite_id, expires_at, name)
    [(member, now, invite_id, expires_at, name)] = read_rows(_ADDRESS_STATE, parameters)
    return _AddressState(member, truncate_to_millisecond(now), invite_id, expires_at, name)


def _new_invite(organization_id, inviter, email, role, now, invite_id=None) -> dict[str, Any]:
    """A new invite's column values (written by _write_invites)."""
    return {
        "id": invite_id or uuid.uuid4(),
        "organization_id": organization_id,
        "recipient_email": email,
        "invite_user_as": role,
        "code": one_time_codes.new_code(),
        "expires_at": now + ttl(),
        "last_sent_at": now,
        "invited_by_user_id": inviter.id,
        **sync.first_version(now),
    }


def _write_invites(invites: Sequence[dict[str, Any]], emails: Sequence[dict[str, Any]]) -> None:
    """New invites and the emails of new and re-sent ones, one Core INSERT each (the ORM's unit
    of work is the dearest part of creating an invite), in the caller's transaction."""
    if invites:
        db.session.execute(insert(OrganizationInvite.__table__), list(invites))
    outbox.queue_emails(emails)


def cancel(invite: OrganizationInvite, user: User, now: datetime) -> None:
    """Cancel an open invite, flushed: a new one to its address may follow in the transaction."""
    invite.cancelled_at = now
    invite.cancelled_by_user_id = user.id
    sync.stamp(invite, now)
    db.session.flush()


def create_invite(
    user: User, organization_id, values: Mapping[str, Any], *, client_id=None, include=()
) -> OrganizationInvite:
    # The caller's role only (api.invites reads the caller as a record with it): the
    # organization's name comes with the address's state.
    require_right(user, organization_id, "invite.manage")
    email = normalize_email(values["recipient_email"])
    role = values.get("invite_user_as", "member")
    content = {
        "invited_by_user_id": user.id,
        "organization_id": organization_id,
        "recipient_email": email,
        "invite_user_as": role,
    }
    create = sync.SyncableCreate(OrganizationInvite, client_id, content, include)
    if (replay := create.replay()) is not None:
        return replay
    state = _address_state(organization_id, email)
    if state.member:
        code, detail = _ALREADY_MEMBER
        raise Conflict(detail, code=code, pointer="/data/attributes/recipient_email")
    pending = Conflict(
        "A pending invite to this address exists.",
        code="invite_pending",
        pointer="/data/attributes/recipient_email",
    )
    now = state.now
    if state.open_invite_id is not None:
        if state.open_invite_expires_at is not None and state.open_invite_expires_at > now:
            return create.replay_or(pending)
        expired = db.session.get(
            OrganizationInvite, state.open_invite_id, with_for_update=True, populate_existing=True
        )
        if expired is not None and expired.status_at(now) == "expired":  # (else: gone or
            cancel(expired, user, now)  # closed meanwhile, nothing stands in the way)
    invite = _new_invite(organization_id, user, email, role, now, create.id)
    with create.committing(pending):
        _write_invites([invite], [invitation(invite, state.organization_name, user)])
    return create.answer()


def invite_batch(
    user: User, organization_id, emails: Sequence[str], role: str, resend_pending: bool
) -> BatchOutcome:
    """Invite many addresses at once: each that cannot be invited gets an error entry, the
    rest are invited (or re-sent) in one transaction — the Telex seed's partial success."""
    _, organization = ORGANIZATION.instance(
        user, organization_id, None, "invite.manage", lock=False
    )
    outcome = BatchOutcome(recipient_emails=list(emails), invite_user_as=role)
    seen: set[str] = set()
    now = sync.database_now()
    raced = Conflict("A pending invite was created meanwhile.", code="invite_pending")
    invited_ids: list = []
    new_invites: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    with sync.committing(raced):
        for raw in emails:
            email = normalize_email(raw) if isinstance(raw, str) else ""

            def refuse(code: str, detail: str, _raw=raw) -> None:
                outcome.errors.append({"recipient_email": _raw, "code": code, "detail": detail})

            if len(email) > 254 or not EMAIL_PATTERN.match(email):
                refuse("invalid_email", "Not a valid email address.")
                continue
            if email in seen:
                refuse("duplicate_in_batch", "This address appears earlier in the batch.")
                continue
            seen.add(email)
            parameters = {"organization_id": organization_id, "email": email}
            if db.session.scalar(_MEMBER_WITH_ADDRESS, parameters) is not None:
                refuse(*_ALREADY_MEMBER)
                continue
            existing = db.session.scalar(_OPEN_INVITE_TO_ADDRESS, parameters)
            if existing is not None and existing.expires_at > now:
                if not resend_pending:
                    refuse("invite_pending", "A pending invite to this address exists.")
                elif now - existing.last_sent_at < resend_interval():
                    refuse("resend_too_soon", "This invite was sent less than a minute ago.")
                else:
                    messages.append(refresh(existing, organization.name, user, now))
                    invited_ids.append(existing.id)
                    outcome.resent_count += 1
                continue
            if existing is not None:
                cancel(existing, user, now)
            invite = _new_invite(organization_id, user, email, role, now)
            new_invites.append(invite)
            messages.append(invitation(invite, organization.name, user))
            invited_ids.append(invite["id"])
            outcome.created_count += 1
        _write_invites(new_invites, messages)
    stored = {
        invite.id: invite
        for invite in db.session.scalars(
            select(OrganizationInvite).where(OrganizationInvite.id.in_(invited_ids))
        )
    }
    outcome.invites = [stored[invite_id] for invite_id in invited_ids]
    return outcome
