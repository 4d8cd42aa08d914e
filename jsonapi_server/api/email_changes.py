"""`email_changes`: move the caller's account to a new address, confirmed by a code mailed there."""

from jsonapi_server.api.hardening import no_store
from jsonapi_server.jsonapi.operations import describe
from jsonapi_server.jsonapi.request import load_resource
from jsonapi_server.jsonapi.responses import query_params, resource_response
from jsonapi_server.services import email_changes
from schemas.email_changes import EmailChangeConfirmSchema, EmailChangeSchema

from .auth import authenticated, current_user
from .blueprint import api
from .rate_limits import email_change_limit


@api.post("/email-changes")
@api.post("/email_changes")
@describe(
    "create",
    EmailChangeSchema,
    request=EmailChangeSchema,
    status=201,
    statuses=(403,),  # a wrong current password
    summary="Ask to change the caller's email (a code is mailed to the new address)",
)
@no_store
@authenticated
@email_change_limit
def request_email_change():
    params = query_params(EmailChangeSchema)
    values = load_resource(EmailChangeSchema).values
    change = email_changes.request_email_change(
        current_user(), values["new_email"], values["current_password"]
    )
    return resource_response(EmailChangeSchema, change, params, status=201)


@api.route("/email-changes/<uuid:id>/confirm", methods=["PUT", "POST"])
@api.route("/email_changes/<uuid:id>/confirm", methods=["PUT", "POST"])
@describe(
    "action",
    EmailChangeSchema,
    request=EmailChangeConfirmSchema,
    statuses=(403, 410),  # a wrong code; an expired change
    summary="Confirm an email change with the mailed code",
)
@no_store
@authenticated
def confirm_email_change(id):
    params = query_params(EmailChangeSchema)
    mailed_code = load_resource(EmailChangeConfirmSchema, expected_id=str(id)).values["code"]
    change = email_changes.confirm_email_change(current_user(), id, mailed_code)
    return resource_response(EmailChangeSchema, change, params)
