"""Blueprints: thin views that parse the request, call one service and dump the result."""

from flask import Flask

from jsonapi_server.db import connections
from jsonapi_server.jsonapi.current import READ_METHODS, current_request
from jsonapi_server.jsonapi.errors import JsonApiError
from jsonapi_server.jsonapi.protocol import handle_jsonapi_error
from jsonapi_server.jsonapi.responses import resource_object
from jsonapi_server.models import Channel, Membership, Organization, OrganizationInvite
from jsonapi_server.services.errors import DomainError
from schemas.base import ResourceSchema
from schemas.invites import OrganizationInviteSchema
from schemas.organizations import ChannelSchema, MembershipSchema, OrganizationSchema

SCHEMA_FOR_MODEL: dict[type, type[ResourceSchema]] = {
    Organization: OrganizationSchema,
    Membership: MembershipSchema,
    Channel: ChannelSchema,
    OrganizationInvite: OrganizationInviteSchema,
}


def handle_domain_error(error: DomainError):
    """Domain refusals become error documents through the protocol's one error path; a stale
    write carries the resource as it is now in `meta.current`."""
    meta = dict(error.meta or {})
    current = getattr(error, "current", None)
    if current is not None:
        meta["current"] = resource_object(SCHEMA_FOR_MODEL[type(current).__model__], current)
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return handle_jsonapi_error(
        JsonApiError(
            error.status,
            error.code,
            error.detail,
            pointer=error.pointer,
            parameter=error.parameter,
            # A precondition that failed is If-Match's: the one precondition writes honour.
            header="If-Match" if error.status == 412 else None,
            meta=meta,
            headers=headers,
        )
    )


def _reads_only_when_the_method_only_reads() -> None:
    if current_request().method in READ_METHODS:
        connections.serve_reads_only()


def register_blueprints(app: Flask) -> None:
    from . import (
        channels,
        deleted_records,
        docs,
        email_changes,
        entry,
        health,
        invite_batches,
        invites,
        memberships,
        organizations,
        passwords,
        profile,
        rate_limits,
        tokens,
        users,
    )
    from .auth import init_auth
    from .blueprint import api

    app.before_request(_reads_only_when_the_method_only_reads)
    init_auth(app)
    app.register_error_handler(DomainError, handle_domain_error)
    rate_limits.init_app(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(docs.blueprint)
    app.register_blueprint(entry.root)
    # Importing the view modules registered their routes on the shared API blueprint.
    assert users and profile and tokens and organizations and memberships and channels
    assert deleted_records and invites and invite_batches and entry and docs
    assert email_changes and passwords
    app.register_blueprint(api)
