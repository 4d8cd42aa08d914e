"""`channels` of an organization, and who is in them (`relationships/members`)."""

from jsonapi_server.jsonapi.conditional import if_match_base, write_base
from jsonapi_server.jsonapi.openapi import describe
from jsonapi_server.jsonapi.request import load_identifiers, load_resource, resolve_parent
from jsonapi_server.jsonapi.responses import (
    created_response,
    listing_response,
    no_content,
    query_params,
    relationship_response,
    resource_response,
)
from jsonapi_server.jsonapi.routing import register_relationships, register_resource
from jsonapi_server.services import channels
from schemas.organizations import ChannelSchema

from .auth import authenticated, current_user
from .blueprint import api

ITEM = "/organizations/<uuid:organization_id>/channels/<uuid:id>"


@authenticated
def list_channels(organization_id):
    params = query_params(ChannelSchema, collection=channels.CHANNEL_LISTING)
    result = channels.list_channels(
        current_user(),
        organization_id,
        filters=params.filters,
        sort=params.sort,
        offset=params.page.offset,
        size=params.page.size,
        include=params.include,
    )
    return listing_response(ChannelSchema, result, params)


@authenticated
def create_channel(organization_id):
    params = query_params(ChannelSchema)
    loaded = load_resource(ChannelSchema)
    loaded.values.pop("updated_in_db_at", None)
    parent = resolve_parent(
        loaded.values.pop("organization", None), organization_id, "organization"
    )
    channel, _ = channels.create_channel(
        current_user(), parent, loaded.values, client_id=loaded.client_id, include=params.include
    )
    return created_response(ChannelSchema, channel, params)


@authenticated
def show_channel(id, organization_id=None):
    params = query_params(ChannelSchema)
    channel = channels.get_channel(current_user(), id, organization_id, params.include)
    return resource_response(ChannelSchema, channel, params)


@authenticated
def update_channel(id, organization_id=None):
    params = query_params(ChannelSchema)
    loaded = load_resource(ChannelSchema, expected_id=str(id), partial=True)
    if organization_id is not None:
        resolve_parent(loaded.values.get("organization"), organization_id, "organization")
    base = write_base(loaded.values)
    channel = channels.update_channel(
        current_user(),
        id,
        loaded.values,
        organization_id=organization_id,
        base=base.version,
        precondition=base.precondition,
        include=params.include,
    )
    return resource_response(ChannelSchema, channel, params)


@authenticated
def delete_channel(id, organization_id=None):
    channels.delete_channel(
        current_user(), id, organization_id=organization_id, base=if_match_base().version
    )
    return no_content()


@authenticated
def load_channel(id, organization_id, include):
    return channels.get_channel(current_user(), id, organization_id, include)


@api.post(f"{ITEM}/relationships/members")
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
    channel = channels.add_channel_members(
        current_user(), id, user_ids, organization_id=organization_id
    )
    return relationship_response(ChannelSchema, channel, "members")


@api.delete(f"{ITEM}/relationships/members")
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
    channel = channels.remove_channel_members(
        current_user(), id, user_ids, organization_id=organization_id
    )
    return relationship_response(ChannelSchema, channel, "members")


register_resource(
    api,
    ChannelSchema,
    listing=channels.CHANNEL_LISTING,
    item_path=ITEM,
    item_views={"GET": show_channel, "PATCH": update_channel, "DELETE": delete_channel},
    collection_path="/organizations/<uuid:organization_id>/channels",
    collection_views={"GET": list_channels, "POST": create_channel},
    parent_argument="organization_id",
)
register_relationships(api, ChannelSchema, item_path=ITEM, load=load_channel)
