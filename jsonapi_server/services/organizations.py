"""Organizations: listing, creating (with the owner's membership and the `general` channel),
changing and deleting them."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, func, select

from jsonapi_server.db import Filter, Listing, Scope, fetch_again, parse_since, parse_text
from jsonapi_server.extensions import db
from jsonapi_server.models import Channel, Membership, Organization, User

from . import channels, sync
from .accounts import normalize_email
from .errors import Forbidden
from .permissions import OneWithRole, declare_rights, includes_invites, member_ids

declare_rights("organization", read="member", update="admin", delete="owner")
TOMBSTONE = sync.tombstoned("organizations")


DEFAULT_CHANNEL = "general"
WRITABLE = ("name", "description", "email", "industry", "location", "country", "logo_url")

ORGANIZATION_LISTING = Listing(
    sorts={
        "name": func.lower(Organization.name),
        "created_at": Organization.created_at,
        "updated_at": Organization.updated_at,
    },
    id_column=Organization.id,
    version_column=Organization.updated_in_db_at,
    filters_by_name={
        "name": Filter(
            parse_text,
            lambda statement, name: statement.where(
                func.lower(Organization.name).contains(name.lower(), autoescape=True)
            ),
        ),
        "updated_since": Filter(parse_since),
    },
)


_ALL_ORGANIZATIONS = Scope(select(Organization))
_MEMBER_ORGANIZATIONS = Scope(
    select(Organization).join(
        Membership,
        (Membership.organization_id == Organization.id)
        & (Membership.user_id == bindparam("user_id"))
        & Membership.removed_at.is_(None),
    )
)


def list_organizations(user: User, query):
    if includes_invites(query.include) and not user.is_superadmin:
        raise Forbidden(
            "Include invites from one organization at a time (GET /organizations/{id}).",
            parameter="include",
        )
    return ORGANIZATION_LISTING.fetch(
        _ALL_ORGANIZATIONS if user.is_superadmin else _MEMBER_ORGANIZATIONS,
        query,
        parameters={"user_id": user.id},
    )


ORGANIZATION = OneWithRole("organization", Organization, Organization.id, "No such organization.")


def get_organization(user: User, organization_id: uuid.UUID, include: Sequence[str] = ()):
    return ORGANIZATION.record(user, organization_id, include=include)


def _clean(values: Mapping[str, Any]) -> dict:
    cleaned = {name: values[name] for name in WRITABLE if name in values}
    if cleaned.get("email"):
        cleaned["email"] = normalize_email(cleaned["email"])
    for name in ("email", "logo_url"):
        if cleaned.get(name) == "":
            cleaned[name] = None
    return cleaned


def create_organization(
    user: User, values: Mapping[str, Any], *, client_id: str | None = None, include=()
) -> Organization:
    """Create an organization owned by `user`, with its `general` channel, which the owner joins."""
    content = {"owner_id": user.id, **_clean(values)}
    create = sync.SyncableCreate(Organization, client_id, content, include)
    if (replay := create.replay()) is not None:
        return replay
    now = sync.database_now()
    organization = Organization(id=create.id, **content)
    membership = Membership(
        organization_id=create.id, user_id=user.id, role="owner", created_by_id=user.id
    )
    channel = Channel(organization_id=create.id, name=DEFAULT_CHANNEL, owner_id=user.id)
    for row in (organization, membership, channel):
        sync.stamp(row, now)
    with create.committing():
        db.session.add_all([organization, membership])
        channels.add_with_creator(channel, user.id, now)
    return create.answer()


def update_organization(
    user: User,
    organization_id: uuid.UUID,
    changes: Mapping[str, Any],
    *,
    base=None,
    precondition: bool = False,
    include=(),
) -> Organization:
    # Locked (FOR UPDATE) until the commit: the base is compared with the version replaced.
    _, organization = ORGANIZATION.instance(user, organization_id, None, "organization.update")
    attributes = _clean(changes)
    if sync.write_needed(organization, base, attributes, precondition=precondition):
        sync.apply_changes(organization, attributes)
        db.session.commit()
    return fetch_again(organization, include)


def delete_organization(user: User, organization_id: uuid.UUID, *, base=None) -> None:
    """Delete it with its memberships, channels and invites (database cascades), leaving a
    tombstone for its members. Locked first: of concurrent deletes one deletes, others get 404."""
    _, organization = ORGANIZATION.instance(user, organization_id, None, "organization.delete")
    sync.check_precondition(organization, base)
    viewers = [*member_ids(organization_id), user.id]
    sync.record_deletion(TOMBSTONE, organization_id, deleted_by_id=user.id, viewer_ids=viewers)
    db.session.execute(delete(Organization).where(Organization.id == organization_id))
    db.session.commit()
