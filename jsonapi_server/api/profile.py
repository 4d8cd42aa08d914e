"""`/profile`: the caller's own `users` resource."""

from jsonapi_server.jsonapi.operations import describe
from jsonapi_server.jsonapi.request import load_resource
from jsonapi_server.jsonapi.responses import query_params, resource_response
from jsonapi_server.services import accounts
from schemas.users import UserSchema

from .auth import authenticated, current_user
from .blueprint import api


@api.get("/profile")
@describe("show", UserSchema, summary="The caller's own user")
@authenticated
def show_profile():
    return resource_response(UserSchema, current_user(), query_params(UserSchema))


@api.route("/profile", methods=["PATCH", "PUT"])
@describe("update", UserSchema, request=UserSchema, summary="Change the caller's profile")
@authenticated
def update_profile():
    params = query_params(UserSchema)
    user = current_user()
    changes = load_resource(UserSchema, expected_id=str(user.id), partial=True).values
    return resource_response(UserSchema, accounts.update_profile(user, changes), params)


@api.delete("/profile/image")
@describe("action", UserSchema, summary="Clear the caller's avatar")
@authenticated
def delete_profile_image():
    params = query_params(UserSchema)
    return resource_response(UserSchema, accounts.clear_avatar(current_user()), params)
