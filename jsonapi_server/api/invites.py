"""`organization_invites`: list, invite, read, change, cancel, accept and resend."""

from jsonapi_server.jsonapi.conditional import if_match_base, write_base
from jsonapi_server.jsonapi.openapi import describe
from jsonapi_server.jsonapi.request import load_resource, resolve_parent
from jsonapi_server.jsonapi.responses import (
    created_response,
    listing_response,
    no_content,
    query_params,
    resource_response,
)
from jsonapi_server.jsonapi.routing import register_relationships, register_resource
from jsonapi_server.services import invites
from schemas.invites import InviteAcceptSchema, InviteUpdateSchema, OrganizationInviteSchema

from .auth import authenticated, current_user
from .blueprint import api
from .rate_limits import accept_limit, invite_creation_limit

ITEM = "/organizations/<uuid:organization_id>/invites/<uuid:id>"


@authenticated
def list_invites(organization_id):
    params = query_params(OrganizationInviteSchema, collection=invites.INVITE_LISTING)
    result = invites.list_invites(
        current_user(),
        organization_id,
        filters=params.filters,
        sort=params.sort,
        offset=params.page.offset,
        size=params.page.size,
        include=params.include,
    )
    return listing_response(OrganizationInviteSchema, result, params)


@authenticated
@invite_creation_limit
def create_invite(organization_id):
    params = query_params(OrganizationInviteSchema)
    loaded = load_resource(OrganizationInviteSchema)
    loaded.values.pop("updated_in_db_at", None)  # the seed sends it; accepted, then ignored
    parent = resolve_parent(
        loaded.values.pop("organization", None), organization_id, "organization"
    )
    invite = invites.create_invite(
        current_user(), parent, loaded.values, client_id=loaded.client_id, include=params.include
    )
    return created_response(OrganizationInviteSchema, invite, params)


@authenticated
def show_invite(id, organization_id=None):
    params = query_params(OrganizationInviteSchema)
    invite = invites.get_invite(current_user(), id, organization_id, params.include)
    return resource_response(OrganizationInviteSchema, invite, params)


@authenticated
def update_invite(id, organization_id=None):
    params = query_params(OrganizationInviteSchema)
    loaded = load_resource(InviteUpdateSchema, expected_id=str(id), partial=True)
    if organization_id is not None:
        resolve_parent(loaded.values.get("organization"), organization_id, "organization")
    base = write_base(loaded.values)
    invite = invites.update_invite(
        current_user(),
        id,
        loaded.values,
        organization_id=organization_id,
        base=base.version,
        precondition=base.precondition,
        include=params.include,
    )
    return resource_response(OrganizationInviteSchema, invite, params)


@authenticated
def cancel_invite(id, organization_id=None):
    invites.cancel_invite(
        current_user(), id, organization_id=organization_id, base=if_match_base().version
    )
    return no_content()


@api.route(f"{ITEM}/accept", methods=["PUT", "POST"])
@describe(
    "action", OrganizationInviteSchema, request=InviteAcceptSchema, summary="Accept an invite"
)
@accept_limit
@authenticated
def accept_invite(organization_id, id):
    params = query_params(OrganizationInviteSchema)
    loaded = load_resource(InviteAcceptSchema, expected_id=str(id))
    invite = invites.accept_invite(
        current_user(),
        id,
        loaded.values["code"],
        organization_id=organization_id,
        base=if_match_base().version,
        include=params.include,
    )
    return resource_response(OrganizationInviteSchema, invite, params)


@api.route(f"{ITEM}/resend", methods=["PUT", "POST"])
@describe("action", OrganizationInviteSchema, summary="Send an invite again, with a new code")
@authenticated
def resend_invite(organization_id, id):
    params = query_params(OrganizationInviteSchema)
    invite = invites.resend_invite(
        current_user(),
        id,
        organization_id=organization_id,
        base=if_match_base().version,
        include=params.include,
    )
    return resource_response(OrganizationInviteSchema, invite, params)


@authenticated
def load_invite(id, organization_id, include):
    return invites.get_invite(current_user(), id, organization_id, include)


register_resource(
    api,
    OrganizationInviteSchema,
    listing=invites.INVITE_LISTING,
    update_schema=InviteUpdateSchema,
    item_path=ITEM,
    item_views={"GET": show_invite, "PATCH": update_invite, "DELETE": cancel_invite},
    collection_path="/organizations/<uuid:organization_id>/invites",
    collection_views={"GET": list_invites, "POST": create_invite},
    parent_argument="organization_id",
)
register_relationships(api, OrganizationInviteSchema, item_path=ITEM, load=load_invite)
