"""Listing and reading invites, and reading one with the caller's right to act on it."""

from collections.abc import Sequence

from sqlalchemy import and_, bindparam, select

from jsonapi_server.db import Filter, Listing, Scope, parse_choice, parse_since, parse_text
from jsonapi_server.models import OrganizationInvite, User

from .. import sync
from ..accounts import normalize_email
from ..permissions import OneWithRole, declare_rights, require_right

declare_rights("invite", read="admin", manage="admin")


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
            parse_choice("pending", "accepted", "cancelled", "expired"),
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


def list_invites(user: User, organization_id, query):
    require_right(user, organization_id, "invite.read", include=query.include)
    filters = query.filters
    cancelled_too = "updated_since" in filters or filters.get("status") == "cancelled"
    return INVITE_LISTING.fetch(
        _ORGANIZATION_INVITES if cancelled_too else _ORGANIZATION_INVITES_NOT_CANCELLED,
        query,
        parameters={"organization_id": organization_id},
    )


INVITE = OneWithRole(
    "invite", OrganizationInvite, OrganizationInvite.organization_id, "No such invite."
)


def get_invite(user, invite_id, organization_id=None, include: Sequence[str] = ()):
    return INVITE.record(user, invite_id, organization_id, include)
