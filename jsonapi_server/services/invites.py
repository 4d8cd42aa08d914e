"""Organization invites: pending -> accepted | cancelled | expired. Codes are 256 random bits;
accepting needs the code and the recipient's own account, and makes a member in one
transaction; every (re)send queues an email in the same transaction as the invite."""

import hmac
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, bindparam, insert, literal_column, select
from sqlalchemy import inspect as inspect_mapper

from jsonapi_server.clock import truncate_to_millisecond
from jsonapi_server.db import pulls
from jsonapi_server.db.cursor_reads import all_rows
from jsonapi_server.db.listing import (
    Filter,
    Listing,
    Scope,
    eager_options,
    fetch_one,
    parse_choice,
    parse_text,
    read_one,
)
from jsonapi_server.extensions import db
from jsonapi_server.models import (
    Membership,
    Organization,
    OrganizationInvite,
    User,
)

from . import outbox, sync
from .accounts import new_user, normalize_email
from .errors import Conflict, Forbidden, Gone, Invalid, NotFound, TooSoon
from .memberships import join_default_channel
from .permissions import authorize, caller_role, require_right, require_role

CODE_PATTERN = re.compile(r"^[0-9a-f]{64}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
STATUSES = ("pending", "accepted", "cancelled", "expired")


def _status_condition(status: str):
    now = sync.database_now()
    open_ = and_(
        OrganizationInvite.accepted_at.is_(None), OrganizationInvite.cancelled_at.is_(None)
    )
    return {
        "accepted": OrganizationInvite.accepted_at.is_not(None),
        "cancelled": OrganizationInvite.cancelled_at.is_not(None),
        "expired": and_(open_, OrganizationInvite.expires_at <= now),
        "pending": and_(open_, OrganizationInvite.expires_at > now),
    }[status]


INVITE_LISTING = Listing(
    sorts={
        "created_at": OrganizationInvite.created_at,
        "updated_at": OrganizationInvite.updated_at,
        "recipient_email": OrganizationInvite.recipient_email,
        "expires_at": OrganizationInvite.expires_at,
    },
    id_column=OrganizationInvite.id,
    version_column=OrganizationInvite.updated_in_db_at,
    filters_by_name={
        "invite_user_as": Filter(
            parse_choice("admin", "member"),
            lambda statement, role: statement.where(OrganizationInvite.invite_user_as == role),
        ),
        "status": Filter(
            parse_choice(*STATUSES),
            lambda statement, status: statement.where(_status_condition(status)),
        ),
        "recipient_email": Filter(
            lambda raw: normalize_email(parse_text(raw)),
            lambda statement, email: statement.where(OrganizationInvite.recipient_email == email),
        ),
        "updated_since": Filter(pulls.parse_since),
    },
)


def new_code() -> str:
    return secrets.token_hex(32)  # 256 bits


def _ttl() -> timedelta:
    return timedelta(seconds=current_app.config["INVITE_TTL_SECONDS"])


def _resend_interval() -> timedelta:
    return timedelta(seconds=current_app.config["INVITE_RESEND_INTERVAL_SECONDS"])


def _invitation(invite: Mapping[str, Any], organization_name: str, inviter: User) -> dict:
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


# -- reading ---------------------------------------------------------------------------------


_ORGANIZATION_INVITES = Scope(
    select(OrganizationInvite).where(
        OrganizationInvite.organization_id == bindparam("organization_id")
    )
)
_ORGANIZATION_INVITES_NOT_CANCELLED = Scope(
    _ORGANIZATION_INVITES.statement.where(OrganizationInvite.cancelled_at.is_(None))
)


def list_invites(user: User, organization_id, *, filters, sort, offset, size, include=()):
    require_right(user, organization_id, "invite.read", include=include)
    cancelled_too = "updated_since" in filters or filters.get("status") == "cancelled"
    return INVITE_LISTING.fetch(
        _ORGANIZATION_INVITES if cancelled_too else _ORGANIZATION_INVITES_NOT_CANCELLED,
        parameters={"organization_id": organization_id},
        filters=filters,
        sort=sort,
        offset=offset,
        size=size,
        include=include,
    )


# Built once, run with parameters (every invite operation runs one; building it would cost
# more than running it): the invite, and with it the caller's role in its organization.
_INVITE = select(OrganizationInvite).where(OrganizationInvite.id == bindparam("invite_id"))
_CALLER_ROLE = (caller_role(OrganizationInvite.organization_id).label("caller_role"),)
_INVITE_WITH_CALLER_ROLE = _INVITE.add_columns(*_CALLER_ROLE).execution_options(
    populate_existing=True
)


def _checked(user, invite, role, organization_id, action: str):
    """`invite` if the caller may `action` on it: 404 when they may not know it exists (or
    it lives under another organization than the URL's), 403 when their role falls short."""
    if invite is None or organization_id not in (None, invite.organization_id):
        raise NotFound("No such invite.")
    require_role(user, role, action, "No such invite.")
    return invite


def _invite_for(
    user, invite_id, organization_id, action: str, *, lock=False, include: Sequence[str] = ()
) -> OrganizationInvite:
    """The invite (an ORM instance, to be changed) and the caller's right to `action` on it,
    in one statement."""
    statement = _INVITE_WITH_CALLER_ROLE
    if include:
        statement = statement.options(*eager_options(OrganizationInvite, include))
    if lock:
        statement = statement.with_for_update(of=OrganizationInvite)
    row = db.session.execute(statement, {"invite_id": invite_id, "user_id": user.id}).first()
    invite, role = row if row is not None else (None, None)
    return _checked(user, invite, role, organization_id, action)


def get_invite(user, invite_id, organization_id=None, include: Sequence[str] = ()):
    """W2: two statements with authentication; the invite is read as a record (as a listing
    reads them) when every include is to-one."""
    invite, role = read_one(
        _INVITE, {"invite_id": invite_id, "user_id": user.id}, include=include, columns=_CALLER_ROLE
    )
    return _checked(user, invite, role, organization_id, "invite.read")


# -- creating --------------------------------------------------------------------------------


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


def _address_problem(organization_id, email: str) -> tuple[str, str] | None:
    parameters = {"organization_id": organization_id, "email": email}
    if db.session.scalar(_MEMBER_WITH_ADDRESS, parameters) is not None:
        return _ALREADY_MEMBER
    return None


def _open_invite(organization_id, email: str) -> OrganizationInvite | None:
    parameters = {"organization_id": organization_id, "email": email}
    return db.session.scalar(_OPEN_INVITE_TO_ADDRESS, parameters)


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
    if not pulls.reads_clock_with_rows():
        member = _address_problem(organization_id, email) is not None
        open_invite = db.session.execute(_OPEN_INVITE_EXPIRY, parameters).first()
        invite_id, expires_at = open_invite or (None, None)
        name = db.session.execute(_ORGANIZATION_NAME, parameters).scalar_one()
        return _AddressState(member, sync.database_now(), invite_id, expires_at, name)
    [(member, now, invite_id, expires_at, name)] = all_rows(
        db.session.connection(), _ADDRESS_STATE, parameters
    )
    return _AddressState(member, truncate_to_millisecond(now), invite_id, expires_at, name)


def _new_invite(organization_id, inviter, email, role, now, invite_id=None) -> dict[str, Any]:
    """A new invite's column values (written by _write_invites)."""
    return {
        "id": invite_id or uuid.uuid4(),
        "organization_id": organization_id,
        "recipient_email": email,
        "invite_user_as": role,
        "code": new_code(),
        "expires_at": now + _ttl(),
        "last_sent_at": now,
        "invited_by_user_id": inviter.id,
        **sync.first_version(now),
    }


def _write_invites(invites: Sequence[dict[str, Any]], emails: Sequence[dict[str, Any]]) -> None:
    """New invites and the emails of new and re-sent ones, one INSERT each, in the caller's
    transaction: Core INSERTs of the tables, where the ORM's unit of work cost creating an
    invite a fifth of its instructions (W3 -23 %; the ORM's bulk INSERT saved 6 %)."""
    if invites:
        db.session.execute(insert(OrganizationInvite.__table__), list(invites))
    outbox.queue_emails(emails)


def _retire_expired(invite: OrganizationInvite, user: User, now: datetime) -> None:
    """An expired open invite gives way to a new one to the same address (it is cancelled)."""
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
    invite_id = sync.parse_client_id(client_id)

    def same(stored: OrganizationInvite) -> bool:
        return (
            stored.invited_by_user_id == user.id
            and stored.organization_id == organization_id
            and stored.recipient_email == email
            and stored.invite_user_as == role
        )

    replay = sync.replayed_create(OrganizationInvite, invite_id, same)
    if replay is not None:
        return fetch_one(OrganizationInvite, replay.id, include)
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
            replay = sync.replay_or(pending, OrganizationInvite, invite_id, same)
            return fetch_one(OrganizationInvite, replay.id, include)
        expired = db.session.get(
            OrganizationInvite, state.open_invite_id, with_for_update=True, populate_existing=True
        )
        if expired is not None and expired.status_at(now) == "expired":  # (else: gone or
            _retire_expired(expired, user, now)  # closed meanwhile, nothing stands in the way)
    invite = _new_invite(organization_id, user, email, role, now, invite_id)
    with sync.committing(pending, model=OrganizationInvite, row_id=invite_id, same=same):
        _write_invites([invite], [_invitation(invite, state.organization_name, user)])
    return fetch_one(OrganizationInvite, invite["id"], include)


def invite_batch(
    user: User, organization_id, emails: Sequence[str], role: str, resend_pending: bool
) -> BatchOutcome:
    """Invite many addresses at once: each that cannot be invited gets an error entry, the
    rest are invited (or re-sent) in one transaction — the Telex seed's partial success."""
    access = authorize(user, organization_id, "invite.manage")
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
            problem = _address_problem(organization_id, email)
            if problem:
                refuse(*problem)
                continue
            existing = _open_invite(organization_id, email)
            if existing is not None and existing.expires_at > now and not resend_pending:
                refuse("invite_pending", "A pending invite to this address exists.")
                continue
            if existing is not None and existing.expires_at > now:
                if now - existing.last_sent_at < _resend_interval():
                    refuse("resend_too_soon", "This invite was sent less than a minute ago.")
                    continue
                messages.append(_refresh(existing, access.loaded_organization.name, user, now))
                invited_ids.append(existing.id)
                outcome.resent_count += 1
                continue
            if existing is not None:
                _retire_expired(existing, user, now)
            invite = _new_invite(organization_id, user, email, role, now)
            new_invites.append(invite)
            messages.append(_invitation(invite, access.loaded_organization.name, user))
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


# -- changing --------------------------------------------------------------------------------


def update_invite(
    user, invite_id, changes, *, organization_id=None, base=None, precondition=False, include=()
):
    invite = _invite_for(user, invite_id, organization_id, "invite.manage", lock=True)
    attributes = (
        {"invite_user_as": changes["invite_user_as"]} if "invite_user_as" in changes else {}
    )
    if sync.write_needed(invite, base, attributes, precondition=precondition):
        if attributes and invite.status != "pending":
            raise Conflict("Only a pending invite can be changed.", code="invite_not_pending")
        sync.apply_changes(invite, attributes)
        db.session.commit()
    return fetch_one(OrganizationInvite, invite_id, include)


def cancel_invite(user, invite_id, *, organization_id=None, base=None) -> None:
    invite = _invite_for(user, invite_id, organization_id, "invite.manage", lock=True)
    if invite.cancelled_at is not None:
        return  # cancelling again changes nothing
    if invite.accepted_at is not None:
        raise Conflict("An accepted invite cannot be cancelled.", code="invite_accepted")
    sync.check_precondition(invite, base)
    now = sync.database_now()
    invite.cancelled_at = now
    invite.cancelled_by_user_id = user.id
    sync.stamp(invite, now)
    db.session.commit()


def _column_values(instance: Any) -> dict[str, Any]:
    """An ORM instance's column values, as a row written as values holds them."""
    return {
        column.key: getattr(instance, column.key)
        for column in inspect_mapper(instance).mapper.column_attrs
    }


def _refresh(invite: OrganizationInvite, organization_name: str, user: User, now: datetime) -> dict:
    """A new code (the old link stops working), a new expiry; and the email again, as an
    outbox row for the caller to queue."""
    invite.code = new_code()
    invite.expires_at = now + _ttl()
    invite.last_sent_at = now
    sync.stamp(invite, now)
    return _invitation(_column_values(invite), organization_name, user)


def resend_invite(user, invite_id, *, organization_id=None, base=None, include=()):
    """Checks run in this order: 404/403, 409, 412, 429."""
    invite = _invite_for(user, invite_id, organization_id, "invite.manage", lock=True)
    if invite.accepted_at is not None or invite.cancelled_at is not None:
        raise Conflict("Only a pending or expired invite can be resent.", code="invite_not_pending")
    sync.check_precondition(invite, base)
    now = sync.database_now()
    wait = invite.last_sent_at + _resend_interval() - now
    if wait > timedelta(0):
        raise TooSoon(
            "An invite can be sent once a minute.",
            code="resend_too_soon",
            retry_after=max(1, int(wait.total_seconds() + 0.999)),
        )
    organization = db.session.get(Organization, invite.organization_id)
    assert organization is not None  # the invite's (a foreign key)
    outbox.queue_emails([_refresh(invite, organization.name, user, now)])
    db.session.commit()
    return fetch_one(OrganizationInvite, invite_id, include)


# -- accepting -------------------------------------------------------------------------------


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
    """Make `user` a member with the invite's role and put them in the default channel.
    A former member's tombstone and the channel are locked (memberships, then channels: the
    order every write takes them); a concurrent add of a new member is decided by the unique
    (organization, user) index (the caller maps it)."""
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

    @property
    def organization(self):
        return self.invite.organization

    def __getattr__(self, name: str):
        if name in ("recipient_email", "invite_user_as", "status", "expires_at"):
            return getattr(self.invite, name)
        if name == "invite_id":
            return self.invite.id
        if name == "organization_id":
            return self.invite.organization_id
        raise AttributeError(name)


def check_code_form(code: Any, pointer: str) -> str:
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
        raise Invalid("An invite code is 64 hexadecimal characters.", pointer=pointer)
    return code


def _open_invite_by_code(code: str) -> OrganizationInvite | None:
    return db.session.scalar(
        select(OrganizationInvite)
        .where(OrganizationInvite.code == code)
        .options(*eager_options(OrganizationInvite, ["organization"]))
    )


def verify_code(code: str) -> Verification:
    """Who and what a code is for, before signing in or up (public)."""
    check_code_form(code, "/data/attributes/code")
    invite = _open_invite_by_code(code)
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
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
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
    taken = Conflict(
        "An account with this email exists.", code="email_taken", pointer="/data/attributes/email"
    )
    with sync.committing(taken):
        user = new_user(**values, is_verified=True)
        db.session.flush()
        _join(invite, user, now)
    return user
