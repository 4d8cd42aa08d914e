"""flask-jwt-extended's manager, remembering the tokens it has verified: a client sends the
same bearer token with every request, and checking its signature and claims costs more CPU
than the rest of authentication (a fifth of a millisecond). Expiry is checked every time."""

import time
from typing import Any

from flask import current_app
from flask_jwt_extended import JWTManager
from flask_jwt_extended.config import config

MAX_REMEMBERED = 4096  # about 8 MB at most: ~2 kB each (token, settings, claims), measured
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
)


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, set):
        return frozenset(value)
    return value


class VerifiedOnceJWTManager(JWTManager):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._verified: dict[tuple, dict] = {}

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value=None, allow_expired: bool = False
    ) -> dict:
        if csrf_value is not None or allow_expired:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        # Everything verification depends on is part of the key: an application with another
        # secret (or audience, issuer, algorithms) verifies the token afresh. The settings are
        # read from the application's config as it holds them, in one lookup: the library's
        # `config` reads each through current_app (~1 us a read).
        settings = current_app._get_current_object().config
        key = (encoded_token, *(_hashable(settings.get(name)) for name in VERIFICATION_SETTINGS))
        claims = self._verified.get(key)
        if claims is None:
            claims = super()._decode_jwt_from_config(encoded_token)
            if len(self._verified) >= MAX_REMEMBERED:
                self._verified.pop(next(iter(self._verified)), None)  # the oldest
            self._verified[key] = claims
        elif "exp" in claims and time.time() > claims["exp"] + config.leeway:
            self._verified.pop(key, None)
            # Verified again to raise exactly what an expired token raises.
            return super()._decode_jwt_from_config(encoded_token)
        return dict(claims)  # callers may change what they are given
