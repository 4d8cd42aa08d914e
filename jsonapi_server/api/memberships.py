"""`memberships` of an organization, and its members as `users`."""

from jsonapi_server.jsonapi.operations import describe
from jsonapi_server.jsonapi.responses import listing_response, query_params
from jsonapi_server.models import Membership
from jsonapi_server.services import accounts, memberships
from schemas.organizations import MembershipSchema
from schemas.users import UserSchema

from .auth import authenticated, current_user
from .blueprint import api
from .resources import Resource, declare

declare(
    Resource(
        schema=MembershipSchema,
        model=Membership,
        path="memberships",
        listing=memberships.MEMBERSHIP_LISTING,
        list_items=memberships.list_memberships,
        create=memberships.add_member,
        show=memberships.get_membership,
        update=memberships.change_role,
        delete=memberships.remove_membership,
    )
)


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
    result = memberships.list_member_users(current_user(), organization_id, params)
    return listing_response(UserSchema, result, params)
