"""Listing and reading invites, and reading one with the caller's right to act on it."""

from collections.abc import Sequence

from sqlalchemy import and_, bindparam, select

from jsonapi_server.db import (
    Filter,
    Listing,
    Scope,
    parse_choice,
    parse_since,
    parse_text,
    read_one,
)
from jsonapi_server.extensions import db
from jsonapi_server.models import OrganizationInvite, User

from .. import sync
from ..accounts import normalize_email
from ..errors import NotFound
from ..permissions import caller_role, declare_rights, require_right, require_role

declare_rights("invite", read="admin", manage="admin")


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
        "updated_since": Filter(parse_since),
    },
)

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


def invite_for(user, invite_id, organization_id, action: str, *, lock=False) -> OrganizationInvite:
    """The invite (an ORM instance, to be changed) and the caller's right to `action` on it,
    in one statement."""
    statement = _INVITE_WITH_CALLER_ROLE
    if lock:
        statement = statement.with_for_update(of=OrganizationInvite)
    row = db.session.execute(statement, {"invite_id": invite_id, "user_id": user.id}).first()
    invite, role = row if row is not None else (None, None)
    return _checked(user, invite, role, organization_id, action)


def get_invite(user, invite_id, organization_id=None, include: Sequence[str] = ()):
    """The invite with the caller's role in its organization, in one statement."""
    invite, role = read_one(
        _INVITE, {"invite_id": invite_id, "user_id": user.id}, include=include, columns=_CALLER_ROLE
    )
    return _checked(user, invite, role, organization_id, "invite.read")
