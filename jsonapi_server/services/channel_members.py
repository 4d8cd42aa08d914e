"""Who is in a channel: joining and leaving oneself (any member), adding and removing others
(owner and admins), members of the organization only, never an archived channel."""

import uuid
from collections.abc import Iterable
from typing import cast

from sqlalchemy import CursorResult, delete, select

from jsonapi_server.db import fetch_again
from jsonapi_server.extensions import db
from jsonapi_server.models import Channel, ChannelMember, Membership, User

from . import sync
from .channels import CHANNEL
from .errors import Conflict, NotFound
from .permissions import Access


def _check_member_changes(
    user: User, access: Access, user_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    wanted = set(user_ids)
    if wanted - {user.id}:
        access.require("channel.manage_members")
    return wanted


def add_channel_members(user, channel_id, user_ids, *, organization_id=None) -> Channel:
    """Join (oneself: any member) or add others (owner/admins): members of the organization
    only, never to an archived channel; joining again changes nothing. Locks, in the order every
    write takes them: the memberships FOR SHARE (a concurrent removal waits, or has removed
    them: 404, and cannot miss the new member), then the channel FOR UPDATE, read again (no
    archive slips in; versions stay in order). A row that exists is skipped by its primary key
    (ON CONFLICT DO NOTHING), not by a check of our own."""
    channel: Channel | None  # read again below, locked
    access, channel = CHANNEL.instance(
        user, channel_id, organization_id, "channel.read", lock=False
    )
    wanted = _check_member_changes(user, access, user_ids)
    members_of_org = set(
        db.session.scalars(
            select(Membership.user_id)
            .where(
                Membership.organization_id == channel.organization_id,
                Membership.removed_at.is_(None),
                Membership.user_id.in_(wanted),
            )
            .with_for_update(read=True)
        )
    )
    if wanted - members_of_org:
        raise NotFound("Only members of the organization can join its channels.", pointer="/data")
    channel = db.session.get(Channel, channel_id, with_for_update=True, populate_existing=True)
    if channel is None:
        raise NotFound("No such channel.")
    if channel.archived:
        raise Conflict("Archived channels cannot be joined.", code="channel_archived")
    now = sync.database_now()
    rows = [
        {"channel_id": channel.id, "user_id": member_id, "joined_at": now} for member_id in wanted
    ]
    joined = (
        rows
        and db.session.execute(
            sync.insert_or_nothing(ChannelMember.__table__)
            .values(rows)
            .returning(ChannelMember.user_id)
        ).all()
    )
    if joined:
        sync.stamp(channel, now)
    db.session.commit()
    return fetch_again(channel, ["members"])


def remove_channel_members(user, channel_id, user_ids, *, organization_id=None) -> Channel:
    """Leave (oneself) or remove others (owner/admins); absent members are no error. The
    channel is locked: its version is replaced."""
    access, channel = CHANNEL.instance(user, channel_id, organization_id, "channel.read")
    wanted = _check_member_changes(user, access, user_ids)
    result = db.session.execute(
        delete(ChannelMember).where(
            ChannelMember.channel_id == channel.id, ChannelMember.user_id.in_(wanted)
        )
    )
    if cast(CursorResult, result).rowcount:  # a DELETE's result
        sync.stamp(channel, sync.database_now())
        db.session.commit()
    return fetch_again(channel, ["members"])
