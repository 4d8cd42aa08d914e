"""Channels of an organization and who is in them. Names are unique per organization
whatever their case (a database index decides races); archived channels are hidden by default
and cannot be joined."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, select

from jsonapi_server.db import (
    Filter,
    Listing,
    Scope,
    fetch_one,
    parse_boolean,
    parse_choice,
    parse_since,
    parse_text,
)
from jsonapi_server.extensions import db
from jsonapi_server.models import Channel, ChannelMember, User

from . import sync
from .errors import Conflict, Forbidden, Invalid
from .permissions import OneWithRole, declare_rights, member_ids, require_right

declare_rights(
    "channel",
    read="member",
    create="member",
    update="admin",  # the channel's owner may too
    delete="admin",
    manage_members="admin",  # adding or removing others (joining oneself needs only read)
)
TOMBSTONE = sync.tombstoned("channels")


WRITABLE = ("name", "description", "archived")

CHANNEL_LISTING = Listing(
    sorts={
        "name": func.lower(Channel.name),
        "created_at": Channel.created_at,
        "updated_at": Channel.updated_at,
    },
    id_column=Channel.id,
    version_column=Channel.updated_in_db_at,
    filters_by_name={
        "membership": Filter(parse_choice("member", "non_member")),  # needs the caller
        "archived": Filter(parse_boolean),  # default false, except in pulls
        "name": Filter(
            parse_text,
            lambda statement, name: statement.where(
                func.lower(Channel.name).contains(name.lower(), autoescape=True)
            ),
        ),
        "updated_since": Filter(parse_since),
    },
)


def _name_taken() -> Conflict:
    return Conflict(
        "This organization has a channel of that name.",
        code="name_taken",
        pointer="/data/attributes/name",
    )


_ORGANIZATION_CHANNELS = select(Channel).where(
    Channel.organization_id == bindparam("organization_id")
)
_CALLER_IN_CHANNEL = exists().where(
    ChannelMember.channel_id == Channel.id, ChannelMember.user_id == bindparam("user_id")
)


def _scope(archived: bool | None, membership: str | None) -> Scope:
    statement = _ORGANIZATION_CHANNELS
    if archived is not None:
        statement = statement.where(Channel.archived.is_(archived))
    if membership is not None:
        joined = _CALLER_IN_CHANNEL if membership == "member" else ~_CALLER_IN_CHANNEL
        statement = statement.where(joined)
    return Scope(statement)


# One scope for each choice of the filters this service applies itself (archived, membership).
_SCOPES = {
    (archived, membership): _scope(archived, membership)
    for archived in (None, True, False)
    for membership in (None, "member", "non_member")
}


def list_channels(user: User, organization_id, query):
    require_right(user, organization_id, "channel.read", include=query.include)
    archived = query.filters.get("archived")
    if archived is None and not {"updated_since", "id"} & set(query.filters):
        archived = False  # pulls and finds by id: archived too
    return CHANNEL_LISTING.fetch(
        _SCOPES[archived, query.filters.get("membership")],
        query,
        parameters={"organization_id": organization_id, "user_id": user.id},
    )


CHANNEL = OneWithRole("channel", Channel, Channel.organization_id, "No such channel.")


def get_channel(user, channel_id, organization_id=None, include: Sequence[str] = ()):
    return CHANNEL.record(user, channel_id, organization_id, include)


def _clean(values: Mapping[str, Any]) -> dict:
    cleaned = {name: values[name] for name in WRITABLE if name in values}
    if "name" in cleaned:
        cleaned["name"] = cleaned["name"].strip()
        if not cleaned["name"]:
            raise Invalid("A channel needs a name.", pointer="/data/attributes/name")
    return cleaned


def _name_free(organization_id, name: str, except_id=None) -> bool:
    statement = select(Channel.id).where(
        Channel.organization_id == organization_id, func.lower(Channel.name) == name.lower()
    )
    if except_id is not None:
        statement = statement.where(Channel.id != except_id)
    return db.session.scalar(statement) is None


def create_channel(
    user: User,
    organization_id: uuid.UUID,
    values: Mapping[str, Any],
    *,
    client_id: str | None = None,
    include=(),
) -> Channel:
    """Any member may create a channel; the creator owns it and joins it."""
    require_right(user, organization_id, "channel.create")
    attributes = _clean(values)
    content = {"owner_id": user.id, "organization_id": organization_id, **attributes}
    create = sync.SyncableCreate(Channel, client_id, content, include)
    if (replay := create.replay()) is not None:
        return replay
    if not _name_free(organization_id, attributes["name"]):
        return create.replay_or(_name_taken())
    now = sync.database_now()
    channel = Channel(id=create.id, **content)
    if channel.archived:
        channel.archived_at = now
    sync.stamp(channel, now)
    with create.committing(_name_taken()):
        add_with_creator(channel, user.id, now)
    return create.answer()


def add_with_creator(channel: Channel, creator_id: uuid.UUID, now) -> None:
    """Add a new (stamped) channel with its creator as its first member; the caller commits."""
    db.session.add(channel)
    db.session.flush()
    db.session.add(ChannelMember(channel_id=channel.id, user_id=creator_id, joined_at=now))


def update_channel(
    user: User,
    channel_id: uuid.UUID,
    changes: Mapping[str, Any],
    *,
    organization_id=None,
    base=None,
    precondition: bool = False,
    include=(),
) -> Channel:
    """Rename, describe, archive or restore: the channel's owner, or the org's owner/admins."""
    access, channel = CHANNEL.instance(user, channel_id, organization_id, "channel.read")
    if not (access.can("channel.update") or channel.owner_id == user.id):
        raise Forbidden("Only the channel's owner or the organization's admins may change it.")
    attributes = _clean(changes)
    if sync.write_needed(channel, base, attributes, precondition=precondition):
        renamed = "name" in attributes and attributes["name"] != channel.name
        if renamed and not _name_free(channel.organization_id, attributes["name"], channel.id):
            raise _name_taken()
        now = sync.database_now()
        if attributes.get("archived") is True and not channel.archived:
            channel.archived_at = now
        elif attributes.get("archived") is False:
            channel.archived_at = None
        with sync.committing(_name_taken()):
            sync.apply_changes(channel, attributes, now)
    return fetch_one(Channel, channel_id, include)


def delete_channel(user: User, channel_id: uuid.UUID, *, organization_id=None, base=None):
    """Locked first: of concurrent deletes one deletes (one tombstone), the others get 404."""
    _, channel = CHANNEL.instance(user, channel_id, organization_id, "channel.delete")
    sync.check_precondition(channel, base)
    viewers = member_ids(channel.organization_id)
    sync.record_deletion(TOMBSTONE, channel.id, deleted_by_id=user.id, viewer_ids=viewers)
    db.session.execute(delete(Channel).where(Channel.id == channel.id))
    db.session.commit()
