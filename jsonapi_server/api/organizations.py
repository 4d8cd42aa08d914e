"""`organizations`: the caller's organizations (a superadmin's: all of them)."""

from jsonapi_server.jsonapi.conditional import if_match_base, write_base
from jsonapi_server.jsonapi.request import load_resource
from jsonapi_server.jsonapi.responses import (
    created_response,
    listing_response,
    no_content,
    query_params,
    resource_response,
)
from jsonapi_server.jsonapi.routing import register_relationships, register_resource
from jsonapi_server.services import organizations
from schemas.organizations import OrganizationSchema

from .auth import authenticated, current_user
from .blueprint import api


@authenticated
def list_organizations():
    params = query_params(OrganizationSchema, collection=organizations.ORGANIZATION_LISTING)
    result = organizations.list_organizations(
        current_user(),
        **params.listing(),
        include=params.include,
    )
    return listing_response(OrganizationSchema, result, params)


@authenticated
def create_organization():
    params = query_params(OrganizationSchema)
    loaded = load_resource(OrganizationSchema)
    loaded.values.pop("updated_in_db_at", None)  # accepted (its form checked), then ignored
    organization = organizations.create_organization(
        current_user(), loaded.values, client_id=loaded.client_id, include=params.include
    )
    return created_response(OrganizationSchema, organization, params)


@authenticated
def show_organization(id):
    params = query_params(OrganizationSchema)
    organization = organizations.get_organization(current_user(), id, params.include)
    return resource_response(OrganizationSchema, organization, params)


@authenticated
def update_organization(id):
    params = query_params(OrganizationSchema)
    loaded = load_resource(OrganizationSchema, expected_id=str(id), partial=True)
    base = write_base(loaded.values)
    organization = organizations.update_organization(
        current_user(),
        id,
        loaded.values,
        base=base.version,
        precondition=base.precondition,
        include=params.include,
    )
    return resource_response(OrganizationSchema, organization, params)


@authenticated
def delete_organization(id):
    organizations.delete_organization(current_user(), id, base=if_match_base().version)
    return no_content()


@authenticated
def load_organization(id, include):
    return organizations.get_organization(current_user(), id, include)


register_resource(
    api,
    OrganizationSchema,
    listing=organizations.ORGANIZATION_LISTING,
    item_path="/organizations/<uuid:id>",
    item_views={
        "GET": show_organization,
        "PATCH": update_organization,
        "DELETE": delete_organization,
    },
    collection_path="/organizations",
    collection_views={"GET": list_organizations, "POST": create_organization},
)
register_relationships(
    api,
    OrganizationSchema,
    item_path="/organizations/<uuid:id>",
    load=load_organization,
    related_elsewhere=frozenset({"memberships", "channels", "invites"}),
)
