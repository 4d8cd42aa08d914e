"""Rate limits (API.md §1 and the account changes) as decorators for the views they guard, with
their 429 and `Retry-After`; limits come from the RATELIMIT_* settings."""

import time
from typing import Any

from flask import Flask, current_app, request
from flask_limiter import RateLimitExceeded

from jsonapi_server.extensions import limiter
from jsonapi_server.jsonapi.operations import mark_rate_limited
from jsonapi_server.jsonapi.protocol import handle_http_exception
from jsonapi_server.services.accounts import normalize_email

from .auth import current_user


def _disabled() -> bool:
    # Read per application: the limiter is one instance, but each app has its own settings.
    return not current_app.config["RATELIMIT_ENABLED"]


def _caller() -> str:
    return f"user:{current_user().id}"


def _addresses_in_batch() -> int:
    """A batch costs one per address (bounded; a malformed body costs one and fails later)."""
    document: Any = request.get_json(silent=True)
    try:
        count = len(document["data"]["attributes"]["recipient_emails"])
    except (KeyError, TypeError):
        return 1
    return min(max(count, 1), 100)


def _requested_email() -> str:
    """The address a password reset asks for (normalized as accounts store them)."""
    document: Any = request.get_json(silent=True)
    try:
        email = document["data"]["attributes"]["email"]
    except (KeyError, TypeError):
        return ""
    return f"email:{normalize_email(email)}" if isinstance(email, str) else ""


def _limit(setting: str, scope: str, *, shared: bool = False, **options):
    """The limit a setting names, with the mark the OpenAPI document reads (429)."""
    limit = (limiter.shared_limit if shared else limiter.limit)(
        lambda: current_app.config[setting], scope=scope, exempt_when=_disabled, **options
    )
    return lambda view: mark_rate_limited(limit(view))


sign_in_limit = _limit("RATELIMIT_SIGN_IN", "sign_in")
registration_limit = _limit("RATELIMIT_REGISTRATION", "registration")
verification_limit = _limit("RATELIMIT_INVITE_VERIFICATION", "invite_verification")
accept_limit = _limit("RATELIMIT_INVITE_ACCEPT", "invite_accept")
# Per client address, and apart per address asked for (for known and unknown ones alike, so
# a 429 tells nothing of whether an account exists).
password_reset_limits = (
    _limit("RATELIMIT_PASSWORD_RESET", "password_reset"),
    _limit("RATELIMIT_PASSWORD_RESET", "password_reset_email", key_func=_requested_email),
)
password_reset_confirm_limit = _limit("RATELIMIT_PASSWORD_RESET", "password_reset_confirm")
# Per signed-in user (apply beneath @authenticated): each guesses the current password, and an
# email change mails an address the caller names.
password_change_limit = _limit("RATELIMIT_SIGN_IN", "password_change", key_func=_caller)
email_change_limit = _limit("RATELIMIT_EMAIL_CHANGE", "email_change", key_func=_caller)
# Per signed-in user, one count shared by both routes (a batch costs one per address):
# apply them beneath @authenticated.
invite_creation_limit = _limit(
    "RATELIMIT_INVITE_CREATION", "invite_creation", shared=True, key_func=_caller
)
batch_creation_limit = _limit(
    "RATELIMIT_INVITE_CREATION",
    "invite_creation",
    shared=True,
    key_func=_caller,
    cost=_addresses_in_batch,
)


def handle_rate_limit_exceeded(error: RateLimitExceeded):
    """The protocol's 429, with the seconds until the breached limit's window resets: the only
    answer that carries `Retry-After`, as flask-limiter's own headers are off (or every answer
    it counted would)."""
    breached = limiter.current_limit
    if breached is not None:
        seconds = int(breached.reset_at - time.time())
    else:
        seconds = error.limit.limit.get_expiry()
    response = handle_http_exception(error)
    response.headers["Retry-After"] = str(max(seconds, 1))
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(RateLimitExceeded, handle_rate_limit_exceeded)
