"""`/profile`: the caller's own `users` resource."""

from jsonapi_server.jsonapi.request import load_resource
from jsonapi_server.jsonapi.responses import query_params, resource_response
from jsonapi_server.services import accounts
from schemas.users import UserSchema

from .auth import authenticated, current_user
from .blueprint import api


@api.get("/profile")
@authenticated
def show_profile():
    return resource_response(UserSchema, current_user(), query_params(UserSchema))


@api.route("/profile", methods=["PATCH", "PUT"])
@authenticated
def update_profile():
    params = query_params(UserSchema)
    user = current_user()
    changes = load_resource(UserSchema, expected_id=str(user.id), partial=True).values
    return resource_response(UserSchema, accounts.update_profile(user, changes), params)


@api.delete("/profile/image")
@authenticated
def delete_profile_image():
    params = query_params(UserSchema)
    return resource_response(UserSchema, accounts.clear_avatar(current_user()), params)
