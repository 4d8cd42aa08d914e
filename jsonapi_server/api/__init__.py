"""Blueprints: thin views that parse the request, call one service and dump the result."""

from flask import Flask

from jsonapi_server.jsonapi.errors import JsonApiError
from jsonapi_server.jsonapi.protocol import handle_jsonapi_error
from jsonapi_server.services.errors import DomainError


def handle_domain_error(error: DomainError):
    """Domain refusals become error documents through the protocol's one error path."""
    return handle_jsonapi_error(
        JsonApiError(error.status, error.code, error.detail, pointer=error.pointer, meta=error.meta)
    )


def register_blueprints(app: Flask) -> None:
    from . import health, profile, tokens, users
    from .auth import init_auth
    from .blueprint import api

    init_auth(app)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_blueprint(health.blueprint)
    # Importing the view modules registered their routes on the shared API blueprint.
    assert users and profile and tokens
    app.register_blueprint(api)
