"""`organization_invites`: the five resource views (resources.py), accept and resend."""

from jsonapi_server.jsonapi.conditional import if_match_base
from jsonapi_server.jsonapi.operations import describe
from jsonapi_server.jsonapi.request import load_resource
from jsonapi_server.jsonapi.responses import query_params, resource_response
from jsonapi_server.models import OrganizationInvite
from jsonapi_server.services import invites
from schemas.invites import InviteAcceptSchema, InviteUpdateSchema, OrganizationInviteSchema

from .auth import authenticated, current_user
from .blueprint import api
from .rate_limits import accept_limit, invite_creation_limit
from .resources import Resource, declare

ITEM = "/organizations/<uuid:organization_id>/invites/<uuid:id>"


declare(
    Resource(
        schema=OrganizationInviteSchema,
        model=OrganizationInvite,
        path="invites",
        listing=invites.INVITE_LISTING,
        list_items=invites.list_invites,
        create=invites.create_invite,
        show=invites.get_invite,
        update=invites.update_invite,
        delete=invites.cancel_invite,
        update_schema=InviteUpdateSchema,
        create_limit=invite_creation_limit,
    ),
)


@api.route(f"{ITEM}/accept", methods=["PUT", "POST"])
@describe(
    "action",
    OrganizationInviteSchema,
    request=InviteAcceptSchema,
    statuses=(410,),  # expired or cancelled
    summary="Accept an invite",
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
@describe(
    "action",
    OrganizationInviteSchema,
    statuses=(429,),  # once a minute per invite: a rule of the invite, not a rate limit
    summary="Send an invite again, with a new code",
)
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
