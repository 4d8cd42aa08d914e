"""Bearer tokens verified once: a client sends the same token with every request, and checking
its signature and claims costs more than the rest of authentication. Expiry is checked every
time, and a change of any setting verification depends on verifies the token afresh."""

import time
from typing import Any

from flask import current_app
from flask_jwt_extended import decode_token

MAX_REMEMBERED = 4096
# The settings flask-jwt-extended derives its decoding from (flask_jwt_extended.config).
VERIFICATION_SETTINGS = (
    "JWT_SECRET_KEY",
    "JWT_PUBLIC_KEY",
    "JWT_ALGORITHM",
    "JWT_DECODE_ALGORITHMS",
    "JWT_DECODE_AUDIENCE",
    "JWT_DECODE_ISSUER",
    "JWT_IDENTITY_CLAIM",
    "JWT_VERIFY_SUB",
    "JWT_DECODE_LEEWAY",
)

_verified: dict[tuple, dict] = {}


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, set):
        return frozenset(value)
    if hasattr(value, "total_seconds"):  # a leeway given as a timedelta
        return value.total_seconds()
    return value


def verified_claims(encoded_token: str) -> dict:
    """The claims of `encoded_token` as flask-jwt-extended's `decode_token` gives them, or what
    it raises for a token it refuses."""
    # One proxy lookup, not one per setting (werkzeug's documented method, hidden from mypy).
    settings = current_app._get_current_object().config  # type: ignore[attr-defined]
    key = (encoded_token, *(_hashable(settings.get(name)) for name in VERIFICATION_SETTINGS))
    claims = _verified.get(key)
    if claims is None:
        claims = decode_token(encoded_token)
        if len(_verified) >= MAX_REMEMBERED:
            _verified.pop(next(iter(_verified)), None)  # the oldest
        _verified[key] = claims
    elif "exp" in claims and time.time() > claims["exp"] + _leeway(settings):
        _verified.pop(key, None)
        return decode_token(encoded_token)  # raises exactly what an expired token raises
    return dict(claims)  # callers may change what they are given


def _leeway(settings: Any) -> float:
    leeway = settings.get("JWT_DECODE_LEEWAY", 0)
    return leeway.total_seconds() if hasattr(leeway, "total_seconds") else float(leeway)
