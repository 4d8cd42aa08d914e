"""`users`: registration (public), and the accounts a caller may see."""

from jsonapi_server.api.hardening import no_store
from jsonapi_server.jsonapi.operations import describe
from jsonapi_server.jsonapi.request import load_resource
from jsonapi_server.jsonapi.responses import listing_response, query_params, resource_response
from jsonapi_server.jsonapi.routing import register_resource
from jsonapi_server.services import accounts, invites, tokens
from schemas.users import RegistrationSchema, UserSchema

from .auth import authenticated, current_user, reveal_private_fields_to
from .blueprint import api
from .rate_limits import registration_limit


@describe(
    "create",
    UserSchema,
    request=RegistrationSchema,
    status=201,
    public=True,
    statuses=(403, 410),  # an invite_code for another address; an expired or cancelled one
    summary="Register (public)",
)
@no_store
@registration_limit
def register():
    params = query_params(UserSchema)
    values = load_resource(RegistrationSchema).values
    invite_code = values.pop("invite_code", None)
    if invite_code is not None:
        user = invites.register_with_invite(values, invite_code)
    else:
        user = accounts.register_user(**values)
    reveal_private_fields_to(user.id, is_superadmin=False)  # the new account itself
    session = tokens.open_session(user)
    meta = {"access_token": session.access_token, "refresh_token": session.refresh_token}
    return resource_response(UserSchema, user, params, status=201, meta=meta, location=True)


@authenticated
def list_users():
    params = query_params(UserSchema, collection=accounts.USER_LISTING)
    return listing_response(UserSchema, accounts.list_users(current_user(), params), params)


@authenticated
def show_user(id):
    params = query_params(UserSchema)
    return resource_response(UserSchema, accounts.get_user(current_user(), id), params)


register_resource(
    api,
    UserSchema,
    listing=accounts.USER_LISTING,
    create_schema=RegistrationSchema,
    item_path="/users/<uuid:id>",
    item_views={"GET": show_user},
    collection_path="/users",
    collection_views={"GET": list_users, "POST": register},
)
