"""`invite_batches` (many addresses at once, partial success) and `invite_verifications`
(public: what a code is for)."""

from dataclasses import replace

from jsonapi_server.jsonapi.operations import describe
from jsonapi_server.jsonapi.request import load_resource
from jsonapi_server.jsonapi.responses import query_params, resource_response
from jsonapi_server.services import invites
from schemas.invites import InviteBatchSchema, InviteVerificationSchema

from .auth import authenticated, current_user
from .blueprint import api
from .rate_limits import batch_creation_limit, verification_limit


@api.post("/organizations/<uuid:organization_id>/invite-batches")
@describe(
    "create",
    InviteBatchSchema,
    request=InviteBatchSchema,
    status=201,
    summary="Invite many addresses at once",
)
@authenticated
@batch_creation_limit
def create_invite_batch(organization_id):
    params = query_params(InviteBatchSchema)
    values = load_resource(InviteBatchSchema).values
    outcome = invites.invite_batch(
        current_user(),
        organization_id,
        values["recipient_emails"],
        values["invite_user_as"],
        values["resend_pending"],
    )
    # The created and re-sent invites always come along in `included`.
    include = tuple(dict.fromkeys(("invites", *params.include)))
    params = replace(params, include=include, include_requested=True)
    return resource_response(InviteBatchSchema, outcome, params, status=201)


# The hyphenated spelling is registered first (the lower decorator): url_for builds it.
@api.post("/invite_verifications")
@api.post("/invite-verifications")
@describe(
    "create",
    InviteVerificationSchema,
    request=InviteVerificationSchema,
    status=201,
    public=True,
    statuses=(404, 410),  # an unknown code; an expired or cancelled invite
    summary="What an invite code is for (public)",
)
@verification_limit
def verify_invite_code():
    params = query_params(InviteVerificationSchema)
    values = load_resource(InviteVerificationSchema).values
    verification = invites.verify_code(values["code"])
    return resource_response(InviteVerificationSchema, verification, params, status=201)
