"""`tokens`: sign in, refresh, sign out."""

from jsonapi_server.api.hardening import no_store
from jsonapi_server.jsonapi.operations import describe
from jsonapi_server.jsonapi.request import load_resource
from jsonapi_server.jsonapi.responses import no_content, query_params, resource_response
from jsonapi_server.services import accounts, tokens
from schemas.tokens import TokenSchema

from .auth import (
    authenticated,
    bearer_token,
    current_session,
    current_user,
    reveal_private_fields_to,
)
from .blueprint import api
from .rate_limits import sign_in_limit


@api.post("/auth/tokens")
@describe(
    "create",
    TokenSchema,
    request=TokenSchema,
    status=201,
    public=True,
    statuses=(401,),  # a wrong email or password
    summary="Sign in",
)
@no_store
@sign_in_limit
def sign_in():
    params = query_params(TokenSchema)
    credentials = load_resource(TokenSchema).values
    user = accounts.authenticate(credentials["email"], credentials["password"])
    reveal_private_fields_to(user.id, user.is_superadmin)  # an included `user`
    token_set = tokens.open_session(user)
    return resource_response(TokenSchema, token_set, params, status=201)


@api.post("/auth/tokens/refresh")
@describe("action", TokenSchema, status=201, summary="A new access token (refresh token)")
@no_store
@authenticated(refresh=True)
def refresh():
    params = query_params(TokenSchema)
    session_id, _ = current_session()
    token_set = tokens.refresh_session(current_user(), session_id, bearer_token())
    return resource_response(TokenSchema, token_set, params, status=201)


@api.delete("/auth/tokens/current")
@describe("delete", TokenSchema, status=204, summary="Sign out (revoke this session)")
@authenticated
def sign_out():
    session_id, issued_at = current_session()
    tokens.close_session(current_user(), session_id, issued_at)
    return no_content()
