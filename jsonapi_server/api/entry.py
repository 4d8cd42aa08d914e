"""The public entry document at /api/v2 and /: links to the OpenAPI document, docs, collections."""

from importlib.metadata import version

from flask import Blueprint

from jsonapi_server.jsonapi.entry import ENTRY_DOCUMENT, entry_response
from jsonapi_server.jsonapi.operations import describe

from .blueprint import api

root = Blueprint("root", __name__)

LINKS = {
    "docs": "docs.page",
    "organizations": "api.organizations_collection",
    "memberships": "api.memberships_create_flat_0",
    "channels": "api.channels_create_flat_0",
    "deleted-records": "api.list_deleted_records",
    "users": "api.users_collection",
    "auth-tokens": "api.sign_in",
    "invite-verifications": "api.verify_invite_code",
    "profile": "api.show_profile",
}
META = {
    "description": "JSON:API 1.1 service for organizations, memberships, channels and "
    "invites. links.describedby is its OpenAPI document, links.@docs the browsable docs.",
    "version": version("jsonapi_server"),
}


# /api/v2 by its own rule: a trailing-slash rule with strict_slashes off answers a wrong
# method on the bare path with 404, not 405.
@root.get("/")
@api.get("")
@api.get("/")
@describe(
    "entry",
    None,
    document=ENTRY_DOCUMENT,
    public=True,
    statuses=(400,),  # it takes no query parameters
    summary="The entry document: links to the OpenAPI document, the docs and the collections",
)
def entry():
    return entry_response("health.openapi_document", LINKS, META)
