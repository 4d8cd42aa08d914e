"""Memberships: who belongs to an organization and with which role; removal leaves a
tombstone (`removed_at`) so offline clients learn of it."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, select

from jsonapi_server.db import Filter, Listing, Scope, fetch_one, parse_choice, parse_since
from jsonapi_server.extensions import db
from jsonapi_server.models import ROLES, Channel, ChannelMember, Membership, User

from . import sync
from .accounts import USER_LISTING
from .errors import Conflict, Invalid, NotFound
from .organizations import DEFAULT_CHANNEL
from .permissions import OneWithRole, declare_rights, require_right

# Leaving (removing oneself) needs only membership.
declare_rights("membership", read="member", create="admin", update="admin", remove="admin")


MEMBERSHIP_LISTING = Listing(
    sorts={
        "created_at": Membership.created_at,
        "updated_at": Membership.updated_at,
        "role": Membership.role,
    },
    id_column=Membership.id,
    version_column=Membership.updated_in_db_at,
    filters_by_name={
        "role": Filter(
            parse_choice(*ROLES), lambda statement, role: statement.where(Membership.role == role)
        ),
        "updated_since": Filter(parse_since),
    },
)


def _assignable(role: Any) -> str:
    if role == "owner":
        raise Invalid(
            "Ownership is not handed out through memberships.",
            code="owner_not_assignable",
            pointer="/data/attributes/role",
        )
    return role


_ORGANIZATION_MEMBERSHIPS = Scope(
    select(Membership).where(Membership.organization_id == bindparam("organization_id"))
)
_CURRENT_ORGANIZATION_MEMBERSHIPS = Scope(
    _ORGANIZATION_MEMBERSHIPS.statement.where(Membership.removed_at.is_(None))
)


def list_memberships(user: User, organization_id, query):
    require_right(user, organization_id, "membership.read", include=query.include)
    pull = "updated_since" in query.filters  # pulls carry the tombstones too
    return MEMBERSHIP_LISTING.fetch(
        _ORGANIZATION_MEMBERSHIPS if pull else _CURRENT_ORGANIZATION_MEMBERSHIPS,
        query,
        parameters={"organization_id": organization_id},
    )


def list_member_users(user: User, organization_id, query):
    """The organization's members as users (the Telex "get users")."""
    require_right(user, organization_id, "membership.read")
    statement = select(User).join(
        Membership,
        (Membership.user_id == User.id)
        & (Membership.organization_id == organization_id)
        & Membership.removed_at.is_(None),
    )
    return USER_LISTING.fetch(statement, query)


MEMBERSHIP = OneWithRole(
    "membership", Membership, Membership.organization_id, "No such membership."
)


def get_membership(user, membership_id, organization_id=None, include: Sequence[str] = ()):
    return MEMBERSHIP.record(user, membership_id, organization_id, include)


def join_default_channel(organization_id: uuid.UUID, user_id: uuid.UUID, now) -> None:
    """Put a new member in the organization's default channel (every way of joining does)."""
    general = db.session.scalar(
        select(Channel)
        .where(
            Channel.organization_id == organization_id,
            Channel.name == DEFAULT_CHANNEL,
            Channel.archived.is_(False),
        )
        .with_for_update()  # as a join does: an archive or removal meanwhile waits for it
    )
    if general is not None and db.session.get(ChannelMember, (general.id, user_id)) is None:
        db.session.add(ChannelMember(channel_id=general.id, user_id=user_id, joined_at=now))
        sync.stamp(general, now)  # its members_count changes


def add_member(
    user: User,
    organization_id: uuid.UUID,
    values: Mapping[str, Any],
    *,
    client_id: str | None = None,
    include=(),
) -> Membership:
    """Add an existing user with a role (admin or member); a replay returns the stored one."""
    require_right(user, organization_id, "membership.create")
    role = _assignable(values.get("role", "member"))
    try:
        member_id = uuid.UUID(str(values["user"]))
    except (KeyError, ValueError) as error:
        raise Invalid(
            "Name the user to add in relationships.user.", pointer="/data/relationships/user"
        ) from error
    content = {
        "created_by_id": user.id,
        "organization_id": organization_id,
        "user_id": member_id,
        "role": role,
        "removed_at": None,
    }
    create = sync.SyncableCreate(Membership, client_id, content, include)
    if (replay := create.replay()) is not None:
        return replay
    if db.session.get(User, member_id) is None:
        raise NotFound("No such user.", pointer="/data/relationships/user")
    already = Conflict("This user is already a member.", code="already_member")
    # A former member's tombstone is locked, so one of concurrent adds brings it back; a new
    # member's row is decided by the unique (organization, user) index.
    existing = db.session.scalar(
        select(Membership)
        .where(Membership.organization_id == organization_id, Membership.user_id == member_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if existing is not None and existing.removed_at is None:
        return create.replay_or(already)
    now = sync.database_now()
    if existing is not None:  # a former member comes back: the tombstone comes alive
        existing.removed_at = None
        existing.role = role
        existing.created_by_id = user.id
        membership = existing
    else:
        membership = Membership(
            id=create.id,
            organization_id=organization_id,
            user_id=member_id,
            role=role,
            created_by_id=user.id,
        )
        db.session.add(membership)
    stored_id = membership.id
    # Inside the commit's guard: joining reads, which flushes the new row, and a concurrent
    # add of the same client id is then a unique violation answered as a replay.
    with create.committing(already):
        sync.stamp(membership, now)
        join_default_channel(organization_id, member_id, now)
    return create.answer(stored_id)


def change_role(
    user: User,
    membership_id: uuid.UUID,
    changes: Mapping[str, Any],
    *,
    organization_id: uuid.UUID | None = None,
    base=None,
    precondition: bool = False,
    include=(),
) -> Membership:
    _, membership = MEMBERSHIP.instance(user, membership_id, organization_id, "membership.update")
    if membership.removed_at is not None:
        raise Conflict("This membership was removed.", code="membership_removed")
    attributes = {"role": _assignable(changes["role"])} if "role" in changes else {}
    if sync.write_needed(membership, base, attributes, precondition=precondition):
        if attributes and membership.role == "owner" and attributes["role"] != "owner":
            raise Conflict("The owner's role cannot be changed.", code="owner_immutable")
        sync.apply_changes(membership, attributes)
        db.session.commit()
    return fetch_one(Membership, membership_id, include)


def remove_membership(
    user: User, membership_id: uuid.UUID, *, organization_id=None, base=None
) -> None:
    """Remove a member (owner/admin), or leave (oneself); the owner can do neither."""
    # Any member may leave: the right to remove is asked of those who remove another.
    access, membership = MEMBERSHIP.instance(
        user, membership_id, organization_id, "membership.read"
    )
    leaving = membership.user_id == user.id
    if not leaving:
        access.require("membership.remove")
    if membership.removed_at is not None:
        return  # already gone: deleting again changes nothing
    sync.check_precondition(membership, base)
    if membership.role == "owner":
        code = "owner_cannot_leave" if leaving else "owner_immutable"
        raise Conflict("The owner cannot leave or be removed.", code=code)
    now = sync.database_now()
    membership.removed_at = now
    sync.stamp(membership, now)
    channels = db.session.scalars(
        select(Channel)
        .join(ChannelMember, ChannelMember.channel_id == Channel.id)
        .where(
            Channel.organization_id == membership.organization_id,
            ChannelMember.user_id == membership.user_id,
        )
        .with_for_update(of=Channel)  # their versions are replaced (after the membership's)
    ).all()
    for channel in channels:
        sync.stamp(channel, now)  # its members_count changes
    db.session.execute(
        delete(ChannelMember).where(
            ChannelMember.user_id == membership.user_id,
            ChannelMember.channel_id.in_([channel.id for channel in channels]),
        )
    )
    db.session.commit()
