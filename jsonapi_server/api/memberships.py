"""`memberships` of an organization, and its members as `users`."""

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
from jsonapi_server.services import accounts, memberships
from schemas.organizations import MembershipSchema
from schemas.users import UserSchema

from .auth import authenticated, current_user
from .blueprint import api

ITEM = "/organizations/<uuid:organization_id>/memberships/<uuid:id>"


@authenticated
def list_memberships(organization_id):
    params = query_params(MembershipSchema, collection=memberships.MEMBERSHIP_LISTING)
    result = memberships.list_memberships(
        current_user(),
        organization_id,
        filters=params.filters,
        sort=params.sort,
        offset=params.page.offset,
        size=params.page.size,
        include=params.include,
    )
    return listing_response(MembershipSchema, result, params)


@authenticated
def add_member(organization_id):
    params = query_params(MembershipSchema)
    loaded = load_resource(MembershipSchema)
    loaded.values.pop("updated_in_db_at", None)
    parent = resolve_parent(
        loaded.values.pop("organization", None), organization_id, "organization"
    )
    membership, _ = memberships.add_member(
        current_user(), parent, loaded.values, client_id=loaded.client_id, include=params.include
    )
    return created_response(MembershipSchema, membership, params)


@authenticated
def show_membership(id, organization_id=None):
    params = query_params(MembershipSchema)
    membership = memberships.get_membership(current_user(), id, organization_id, params.include)
    return resource_response(MembershipSchema, membership, params)


@authenticated
def update_membership(id, organization_id=None):
    params = query_params(MembershipSchema)
    loaded = load_resource(MembershipSchema, expected_id=str(id), partial=True)
    if organization_id is not None:
        resolve_parent(loaded.values.get("organization"), organization_id, "organization")
    base = write_base(loaded.values)
    membership = memberships.change_role(
        current_user(),
        id,
        loaded.values,
        organization_id=organization_id,
        base=base.version,
        precondition=base.precondition,
        include=params.include,
    )
    return resource_response(MembershipSchema, membership, params)


@authenticated
def remove_membership(id, organization_id=None):
    memberships.remove_membership(
        current_user(), id, organization_id=organization_id, base=if_match_base().version
    )
    return no_content()


@authenticated
def load_membership(id, organization_id, include):
    return memberships.get_membership(current_user(), id, organization_id, include)


@api.get("/organizations/<uuid:organization_id>/users")
@describe(
    "list",
    UserSchema,
    collection=accounts.USER_LISTING,
    many=True,
    summary="The organization's members as users",
)
@authenticated
def list_member_users(organization_id):
    params = query_params(UserSchema, collection=accounts.USER_LISTING)
    result = memberships.list_member_users(
        current_user(),
        organization_id,
        filters=params.filters,
        sort=params.sort,
        offset=params.page.offset,
        size=params.page.size,
    )
    return listing_response(UserSchema, result, params)


register_resource(
    api,
    MembershipSchema,
    listing=memberships.MEMBERSHIP_LISTING,
    item_path=ITEM,
    item_views={"GET": show_membership, "PATCH": update_membership, "DELETE": remove_membership},
    collection_path="/organizations/<uuid:organization_id>/memberships",
    collection_views={"GET": list_memberships, "POST": add_member},
    parent_argument="organization_id",
)
register_relationships(api, MembershipSchema, item_path=ITEM, load=load_membership)
