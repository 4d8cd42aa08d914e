"""Bearer-token authentication: flask-jwt-extended with every callback routed into JSON:API
errors, and a revocation check that loads the caller in the same statement."""

import uuid
from datetime import UTC, datetime
from functools import wraps

from flask import Flask, g, request
from flask_jwt_extended import current_user as jwt_current_user
from flask_jwt_extended import get_jwt, verify_jwt_in_request

from jsonapi_server.extensions import jwt
from jsonapi_server.jsonapi.errors import JsonApiError
from jsonapi_server.jsonapi.protocol import handle_jsonapi_error
from jsonapi_server.models import User
from jsonapi_server.services.tokens import SESSION_CLAIM, session_holder

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="jsonapi_server"'}


def _unauthorized(code: str, detail: str):
    """The response for a refused token (these callbacks run inside error handlers, so they
    answer rather than raise)."""
    return handle_jsonapi_error(
        JsonApiError(401, code, detail, header="Authorization", headers=CHALLENGE)
    )


def _claims_ids(jwt_data: dict) -> tuple[uuid.UUID, uuid.UUID] | None:
    try:
        return uuid.UUID(jwt_data["sub"]), uuid.UUID(jwt_data[SESSION_CLAIM])
    except (KeyError, TypeError, ValueError):
        return None


def init_auth(app: Flask) -> None:
    @jwt.token_in_blocklist_loader
    def session_revoked(_jwt_header, jwt_data) -> bool:
        ids = _claims_ids(jwt_data)
        if ids is None:
            return True
        user, revoked = session_holder(*ids)
        g.token_user = user
        return user is None or revoked

    @jwt.user_lookup_loader
    def load_user(_jwt_header, _jwt_data) -> User | None:
        return g.get("token_user")

    @jwt.unauthorized_loader
    def missing_token(reason: str):
        return _unauthorized(
            "missing_token", "This endpoint needs `Authorization: Bearer <token>`."
        )

    @jwt.invalid_token_loader
    def invalid_token(reason: str):
        return _unauthorized("invalid_token", f"The bearer token is not valid: {reason}.")

    @jwt.expired_token_loader
    def expired_token(_jwt_header, _jwt_data):
        return _unauthorized("token_expired", "The bearer token has expired.")

    @jwt.revoked_token_loader
    def revoked_token(_jwt_header, _jwt_data):
        return _unauthorized("token_revoked", "The bearer token has been revoked (signed out).")

    @jwt.user_lookup_error_loader
    def unknown_user(_jwt_header, _jwt_data):
        return _unauthorized("token_revoked", "The bearer token's account no longer exists.")

    @jwt.needs_fresh_token_loader
    def needs_fresh(_jwt_header, _jwt_data):
        return _unauthorized("fresh_token_required", "Sign in again to do this.")

    @jwt.token_verification_failed_loader
    def verification_failed(_jwt_header, _jwt_data):
        return _unauthorized("invalid_token", "The bearer token was refused.")


def authenticated(view=None, *, refresh: bool = False):
    """Decorator: the view needs a valid access token (or, with refresh=True, a refresh token)."""

    def decorate(function):
        @wraps(function)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request(refresh=refresh)
            return function(*args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def current_user() -> User:
    return jwt_current_user


def current_session() -> tuple[uuid.UUID, datetime]:
    """The session id and issue time of the token in this request."""
    claims = get_jwt()
    return uuid.UUID(claims[SESSION_CLAIM]), datetime.fromtimestamp(int(claims["iat"]), UTC)


def bearer_token() -> str:
    """The raw token of this (already verified) request."""
    return request.headers["Authorization"].split(None, 1)[1].strip()
