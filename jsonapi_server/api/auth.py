"""Bearer-token authentication: flask-jwt-extended makes and verifies the tokens, its refusals
answered as JSON:API errors; the caller and their session's revocation are read in one statement."""

import re
import uuid
from datetime import UTC, datetime
from functools import wraps

from flask_jwt_extended import get_unverified_jwt_headers
from flask_jwt_extended.exceptions import (
    InvalidHeaderError,
    NoAuthorizationError,
    RevokedTokenError,
    UserLookupError,
    WrongTokenError,
)

from jsonapi_server.extensions import jwt
from jsonapi_server.jsonapi.current import current_request, request_globals
from jsonapi_server.jsonapi.errors import JsonApiError
from jsonapi_server.jsonapi.protocol import handle_jsonapi_error
from jsonapi_server.jsonapi.responses import reveal_private_fields
from jsonapi_server.models import User
from jsonapi_server.services.accounts import private_fields_visible
from jsonapi_server.services.tokens import SESSION_CLAIM, session_holder

from .verified_tokens import verified_claims

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="jsonapi_server"'}
HEADER = "Authorization"
SCHEME = "Bearer"
_FIELD_SEPARATOR = re.compile(r",\s*")
ORGANIZATION_ARGUMENT = "organization_id"  # how URLs under an organization name it


def _unauthorized(code: str, detail: str):
    """The response for a refused token (these callbacks run inside error handlers, so they
    answer rather than raise)."""
    return handle_jsonapi_error(JsonApiError(401, code, detail, header=HEADER, headers=CHALLENGE))


def init_auth() -> None:
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


def bearer_token() -> str:
    """The token of `Authorization: Bearer <token>` (among other comma-separated
    credentials, as flask-jwt-extended reads it)."""
    value = current_request().headers.get(HEADER, "").strip().strip(",")
    if not value:
        raise NoAuthorizationError(f"Missing {HEADER} Header")
    candidates = [
        field for field in _FIELD_SEPARATOR.split(value) if field and field.split()[0] == SCHEME
    ]
    if len(candidates) != 1:
        raise NoAuthorizationError(f"Missing '{SCHEME}' type in '{HEADER}' header.")
    parts = candidates[0].split()
    if len(parts) != 2:
        raise InvalidHeaderError(f"Bad {HEADER} header. Expected '{HEADER}: {SCHEME} <JWT>'")
    return parts[1]


def _authenticate(refresh: bool) -> None:
    """Verify the request's token and load its caller into `g`, or raise the library's own
    exception, answered as it answers it. Not `verify_jwt_in_request`, which parses the token's
    header again on every request and loads the caller through callbacks."""
    token = bearer_token()
    claims = verified_claims(token)
    if claims.get("type") != ("refresh" if refresh else "access"):
        raise WrongTokenError(
            "Only refresh tokens are allowed" if refresh else "Only non-refresh tokens are allowed"
        )
    try:
        ids = uuid.UUID(claims["sub"]), uuid.UUID(claims[SESSION_CLAIM])
    except (KeyError, TypeError, ValueError) as error:
        # (The token's header is read only to refuse it, as the library's exceptions carry it.)
        raise RevokedTokenError(get_unverified_jwt_headers(token), claims) from error
    # The caller comes as a record, with their role in the organization the URL names; a
    # service that changes their own account reads its row itself (accounts.own_account).
    request = current_request()
    user, revoked = session_holder(
        *ids, organization_id=(request.view_args or {}).get(ORGANIZATION_ARGUMENT)
    )
    if user is None:
        raise UserLookupError(
            "The token's account no longer exists", get_unverified_jwt_headers(token), claims
        )
    if revoked:
        raise RevokedTokenError(get_unverified_jwt_headers(token), claims)
    globals_ = request_globals()
    globals_.caller, globals_.caller_id, globals_.token_claims = user, ids[0], claims
    reveal_private_fields_to(ids[0], user.is_superadmin)


def reveal_private_fields_to(user_id: uuid.UUID, is_superadmin: bool) -> None:
    """This request's documents show private attributes as this caller may see them."""
    reveal_private_fields(private_fields_visible(user_id, is_superadmin))


def authenticated(view=None, *, refresh: bool = False):
    """Decorator: the view needs a valid access token (or, with refresh=True, a refresh token)."""

    def decorate(function):
        @wraps(function)
        def wrapper(*args, **kwargs):
            _authenticate(refresh)
            return function(*args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def current_user() -> User:
    """The caller, as a record of their User (its columns and properties, in no session)."""
    return request_globals().caller


def current_session() -> tuple[uuid.UUID, datetime]:
    """The session id and issue time of the token in this request."""
    claims = request_globals().token_claims
    return uuid.UUID(claims[SESSION_CLAIM]), datetime.fromtimestamp(int(claims["iat"]), UTC)
