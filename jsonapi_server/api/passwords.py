"""`password_changes` (the caller's, with the current password) and `password_resets`
(public: a token mailed to the account's address sets a new password)."""

from jsonapi_server.api.hardening import no_store
from jsonapi_server.jsonapi.operations import describe
from jsonapi_server.jsonapi.request import load_resource
from jsonapi_server.jsonapi.responses import no_content, query_params, resource_response
from jsonapi_server.services import passwords
from schemas.passwords import PasswordChangeSchema, PasswordResetConfirmSchema, PasswordResetSchema

from .auth import authenticated, current_session, current_user
from .blueprint import api
from .rate_limits import password_change_limit, password_reset_confirm_limit, password_reset_limits


@api.post("/password-changes")
@api.post("/password_changes")
@describe(
    "create",
    PasswordChangeSchema,
    request=PasswordChangeSchema,
    status=201,
    statuses=(403,),  # a wrong current password
    summary="Change the caller's password (every other session is signed out)",
)
@no_store
@authenticated
@password_change_limit
def change_password():
    params = query_params(PasswordChangeSchema)
    values = load_resource(PasswordChangeSchema).values
    session_id, _ = current_session()
    change = passwords.change_password(
        current_user(), values["current_password"], values["password"], keep_session=session_id
    )
    return resource_response(PasswordChangeSchema, change, params, status=201)


@api.post("/password-resets")
@api.post("/password_resets")
@describe(
    "create",
    PasswordResetSchema,
    request=PasswordResetSchema,
    status=204,
    public=True,
    summary="Mail a password-reset link (204 whether or not an account has the address)",
)
@no_store
@password_reset_limits[0]
@password_reset_limits[1]
def request_password_reset():
    query_params(PasswordResetSchema)  # refuses what every view refuses in a query
    passwords.request_reset(load_resource(PasswordResetSchema).values["email"])
    # The one answer, whether or not an account has the address.
    return no_content()


@api.route("/password-resets/confirm", methods=["PUT", "POST"])
@api.route("/password_resets/confirm", methods=["PUT", "POST"])
@describe(
    "action",
    PasswordResetSchema,
    request=PasswordResetConfirmSchema,
    public=True,
    statuses=(410,),  # an expired or used reset token
    summary="Set a new password with a mailed reset token (every session is signed out)",
)
@no_store
@password_reset_confirm_limit
def confirm_password_reset():
    params = query_params(PasswordResetSchema)
    values = load_resource(PasswordResetConfirmSchema).values
    reset = passwords.reset_password(values["token"], values["password"])
    return resource_response(PasswordResetSchema, reset, params)
