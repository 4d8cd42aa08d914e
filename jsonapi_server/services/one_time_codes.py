"""One-time codes mailed to prove a mailbox: 256 random bits in 64 hex digits. An account
change keeps only a code's SHA-256 digest (a code this long needs no slow hash), compared in
constant time; an invite keeps its code."""

import hashlib
import hmac
import re
import secrets

CODE_PATTERN = re.compile(r"^[0-9a-f]{64}$")


def new_code() -> str:
    return secrets.token_hex(32)


def digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def matches(code: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(code).encode(), stored_digest.encode())


def well_formed(code: object) -> bool:
    return isinstance(code, str) and CODE_PATTERN.match(code) is not None
