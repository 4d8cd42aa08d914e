"""`channels` of an organization, and who is in them (`relationships/members`)."""

from jsonapi_server.jsonapi.operations import describe
from jsonapi_server.jsonapi.request import load_identifiers
from jsonapi_server.jsonapi.responses import relationship_response
from jsonapi_server.models import Channel
from jsonapi_server.services import channel_members, channels
from schemas.organizations import ChannelSchema

from .auth import authenticated, current_user
from .blueprint import api
from .resources import Resource, declare

MEMBERS = "/organizations/<uuid:organization_id>/channels/<uuid:id>/relationships/members"

declare(
    Resource(
        schema=ChannelSchema,
        model=Channel,
        path="channels",
        listing=channels.CHANNEL_LISTING,
        list_items=channels.list_channels,
        create=channels.create_channel,
        show=channels.get_channel,
        update=channels.update_channel,
        delete=channels.delete_channel,
    ),
)


@api.post(MEMBERS)
@describe(
    "change_members",
    ChannelSchema,
    request="identifiers",
    many=True,
    summary="Join, or add members (owner/admins)",
)
@authenticated
def add_channel_members(organization_id, id):
    user_ids = load_identifiers("users")
    channel = channel_members.add_channel_members(
        current_user(), id, user_ids, organization_id=organization_id
    )
    return relationship_response(ChannelSchema, channel, "members")


@api.delete(MEMBERS)
@describe(
    "change_members",
    ChannelSchema,
    request="identifiers",
    many=True,
    summary="Leave, or remove members (owner/admins)",
)
@authenticated
def remove_channel_members(organization_id, id):
    user_ids = load_identifiers("users")
    channel = channel_members.remove_channel_members(
        current_user(), id, user_ids, organization_id=organization_id
    )
    return relationship_response(ChannelSchema, channel, "members")
