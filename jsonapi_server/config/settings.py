"""Settings: defaults, then the environment, then a mapping passed to create_app()."""

import os
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug.urls import iri_to_uri

ENVIRONMENTS = ("development", "production")

# Each may be allowed in production only by its own setting, which names the risk taken.
UNSAFE_ALLOWANCES = (
    "ALLOW_UNSAFE_SQLITE",
    "ALLOW_UNSAFE_MEMORY_RATE_LIMITS",
    "ALLOW_UNSAFE_NO_RATE_LIMITS",
    "ALLOW_UNSAFE_ANY_ORIGIN",
    "ALLOW_UNSAFE_HOST_HEADER",
)


DEFAULTS: dict[str, Any] = {
    "JSONAPI_SERVER_ENV": "development",
    "SQLALCHEMY_DATABASE_URI": None,  # None: SQLite in the instance folder
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    # Pooled connections idle longer than this are checked before use (connections.py).
    "DATABASE_PING_AFTER_IDLE_SECONDS": 10.0,
    # Repeated reads as server-side prepared statements (jsonapi_server.db.prepared); off behind
    # a pooler that shares server connections between clients (PgBouncer's transaction mode).
    "DATABASE_PREPARED_STATEMENTS": True,
    "JWT_SECRET_KEY": None,  # None in development: a key kept in the instance folder
    "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=15),
    "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=30),
    "JWT_TOKEN_LOCATION": ["headers"],
    "JWT_ALGORITHM": "HS256",
    "PASSWORD_HASH_METHOD": "scrypt",
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # The longest an open transaction holds pull cursors back (db.pulls.pull_horizon);
    # write transactions must be shorter (PostgreSQL connections get statement and
    # idle-in-transaction timeouts of WRITE_TRANSACTION_TIMEOUT_SECONDS).
    "SYNC_SAFETY_WINDOW_SECONDS": 30,
    "INVITE_TTL_SECONDS": 172800,
    "INVITE_RESEND_INTERVAL_SECONDS": 60,
    "INVITE_URL_TEMPLATE": "http://localhost:4200/invites/{invite_id}/accept?code={code}",
    # One-time codes that confirm a new email address and reset a password.
    "EMAIL_CHANGE_TTL_SECONDS": 86400,
    "EMAIL_CHANGE_URL_TEMPLATE": (
        "http://localhost:4200/email-changes/{email_change_id}/confirm?code={code}"
    ),
    "PASSWORD_RESET_TTL_SECONDS": 3600,
    "PASSWORD_RESET_URL_TEMPLATE": "http://localhost:4200/password-resets/confirm?token={token}",
    "OUTBOX_POLL_SECONDS": 2.0,
    "OUTBOX_BATCH_SIZE": 20,
    "OUTBOX_MAX_BACKOFF_SECONDS": 3600,
    # Attempts before a message that keeps failing is marked dead (about 6 h of backoff).
    "OUTBOX_MAX_ATTEMPTS": 10,
    "WRITE_TRANSACTION_TIMEOUT_SECONDS": 20,
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_DEFAULT_SENDER": "jsonapi_server <no-reply@localhost>",
    "JSON_SORT_KEYS": False,
    # How many proxies in front of the app set X-Forwarded-* (nginx: 1).
    "PROXY_FIX_X_FOR": 0,
    "PROXY_FIX_X_PROTO": 0,
    "PROXY_FIX_X_HOST": 0,
    # `https://api.example.com`: the scheme and host every link and Location names, whatever
    # Host a request carries. None: the request's own (development).
    "PUBLIC_BASE_URL": None,
    # TRUSTED_HOSTS in the environment: the Host names a request may carry (`.example.com`:
    # its subdomains too), besides PUBLIC_BASE_URL's; empty: any. Not Flask's TRUSTED_HOSTS,
    # which Flask checks before routing, where a health probe could not be let through.
    "ALLOWED_HOSTS": (),
    "CORS_ORIGINS": "",
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    # Off: flask-limiter would put Retry-After on every answer it counts, a 201 included
    # (api/rate_limits.py gives a 429 its Retry-After).
    "RATELIMIT_HEADERS_ENABLED": False,
    "RATELIMIT_SIGN_IN": "20/minute",
    "RATELIMIT_REGISTRATION": "20/minute",
    "RATELIMIT_INVITE_VERIFICATION": "20/minute",
    "RATELIMIT_INVITE_ACCEPT": "20/minute",
    "RATELIMIT_INVITE_CREATION": "500/hour",
    **dict.fromkeys(UNSAFE_ALLOWANCES, False),
    # Per client address and, apart, per address asked for (a mailbox is not flooded).
    "RATELIMIT_PASSWORD_RESET": "5/hour",
    "RATELIMIT_EMAIL_CHANGE": "10/hour",  # per user: each one mails an address they name
}


def _flag(value: str) -> bool:
    return value.strip().lower() not in ("0", "false", "no", "off")


def _names(value: str) -> tuple[str, ...]:
    return tuple(name.strip().lower() for name in value.split(",") if name.strip())


# Environment variable -> (setting, parser). Only these are read from the environment.
ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "JSONAPI_SERVER_ENV": ("JSONAPI_SERVER_ENV", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "JWT_SECRET_KEY": ("JWT_SECRET_KEY", str),
    "JWT_ACCESS_TOKEN_SECONDS": ("JWT_ACCESS_TOKEN_EXPIRES", lambda v: timedelta(seconds=int(v))),
    "JWT_REFRESH_TOKEN_SECONDS": (
        "JWT_REFRESH_TOKEN_EXPIRES",
        lambda v: timedelta(seconds=int(v)),
    ),
    "PASSWORD_HASH_METHOD": ("PASSWORD_HASH_METHOD", str),
    "MAX_CONTENT_LENGTH": ("MAX_CONTENT_LENGTH", int),
    "SYNC_SAFETY_WINDOW_SECONDS": ("SYNC_SAFETY_WINDOW_SECONDS", float),
    "INVITE_TTL_SECONDS": ("INVITE_TTL_SECONDS", int),
    "INVITE_RESEND_INTERVAL_SECONDS": ("INVITE_RESEND_INTERVAL_SECONDS", int),
    "INVITE_URL_TEMPLATE": ("INVITE_URL_TEMPLATE", str),
    "EMAIL_CHANGE_TTL_SECONDS": ("EMAIL_CHANGE_TTL_SECONDS", int),
    "EMAIL_CHANGE_URL_TEMPLATE": ("EMAIL_CHANGE_URL_TEMPLATE", str),
    "PASSWORD_RESET_TTL_SECONDS": ("PASSWORD_RESET_TTL_SECONDS", int),
    "PASSWORD_RESET_URL_TEMPLATE": ("PASSWORD_RESET_URL_TEMPLATE", str),
    "OUTBOX_POLL_SECONDS": ("OUTBOX_POLL_SECONDS", float),
    "OUTBOX_MAX_ATTEMPTS": ("OUTBOX_MAX_ATTEMPTS", int),
    "DATABASE_PING_AFTER_IDLE_SECONDS": ("DATABASE_PING_AFTER_IDLE_SECONDS", float),
    "DATABASE_PREPARED_STATEMENTS": ("DATABASE_PREPARED_STATEMENTS", _flag),
    "WRITE_TRANSACTION_TIMEOUT_SECONDS": ("WRITE_TRANSACTION_TIMEOUT_SECONDS", float),
    "MAIL_SERVER": ("MAIL_SERVER", str),
    "MAIL_PORT": ("MAIL_PORT", int),
    "MAIL_DEFAULT_SENDER": ("MAIL_DEFAULT_SENDER", str),
    "PROXY_FIX_X_FOR": ("PROXY_FIX_X_FOR", int),
    "PROXY_FIX_X_PROTO": ("PROXY_FIX_X_PROTO", int),
    "PROXY_FIX_X_HOST": ("PROXY_FIX_X_HOST", int),
    "PUBLIC_BASE_URL": ("PUBLIC_BASE_URL", str),
    "TRUSTED_HOSTS": ("ALLOWED_HOSTS", _names),
    "CORS_ORIGINS": ("CORS_ORIGINS", str),
    "RATELIMIT_ENABLED": ("RATELIMIT_ENABLED", _flag),
    "RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    **{name: (name, _flag) for name in UNSAFE_ALLOWANCES},
}


def load_settings(environ=None, overrides=None) -> dict:
    """Merge defaults, environment variables and explicit overrides, in that order."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    for variable, (setting, parse) in ENVIRONMENT.items():
        if environ.get(variable):
            settings[setting] = parse(environ[variable])
    settings.update(overrides or {})
    return settings


def normalize_database_url(url: str) -> str:
    """Plain `postgresql://` (or `postgres://`, as some platforms write it) means psycopg2,
    the driver we install; SQLAlchemy 2.1 would otherwise look for psycopg 3."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg2://" + url[len(scheme) :]
    return url


INSTANCE_PATH_VARIABLE = "JSONAPI_SERVER_INSTANCE_PATH"


def instance_path(environ=None) -> str | None:
    """The instance folder (development's SQLite database, JWT key and mail) when
    JSONAPI_SERVER_INSTANCE_PATH names one, made absolute as Flask requires; None: Flask's
    own, `instance/` beside the package."""
    environ = os.environ if environ is None else environ
    path = environ.get(INSTANCE_PATH_VARIABLE)
    return os.path.abspath(path) if path else None


def development_jwt_secret(instance_path: str) -> str:
    """A key kept in the instance folder, so every worker of one install signs alike."""
    path = Path(instance_path) / "jwt-secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def postgresql_engine_options(settings: dict) -> dict:
    """Engine options that bound every statement and idle transaction on PostgreSQL, which is
    what bounds how long a pull is held back, and read timestamps in UTC."""
    timeout_ms = int(settings["WRITE_TRANSACTION_TIMEOUT_SECONDS"] * 1000)
    options = dict(settings["SQLALCHEMY_ENGINE_OPTIONS"])
    connect_args = dict(options.get("connect_args", {}))
    connect_args.setdefault(
        "options",
        f"-c statement_timeout={timeout_ms} -c idle_in_transaction_session_timeout={timeout_ms}"
        " -c TimeZone=UTC",
    )
    options["connect_args"] = connect_args
    return options


def check_sync_settings(settings: dict) -> None:
    if settings["SYNC_SAFETY_WINDOW_SECONDS"] < settings["WRITE_TRANSACTION_TIMEOUT_SECONDS"]:
        raise RuntimeError(
            "SYNC_SAFETY_WINDOW_SECONDS must be at least WRITE_TRANSACTION_TIMEOUT_SECONDS, "
            "or a pull could miss a write that commits late."
        )


# A host as links write it (a name in its ASCII form, or an IPv4 address) ...
_BASE_HOST = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")
# ... and a name or `.suffix` as werkzeug's host_is_trusted matches it: no scheme, port, path.
HOST_NAME = re.compile(r"^\.?[^\s:/@?#\[\],.][^\s:/@?#\[\],]*$")


def public_base_url(settings: dict) -> str | None:
    """PUBLIC_BASE_URL as every link begins: `scheme://host[:port]`, the host lower-case and in
    its ASCII form, no trailing slash. None when it is unset, or is not such a URL (which
    settings_problems names)."""
    value = (settings.get("PUBLIC_BASE_URL") or "").strip()
    if not value:
        return None
    try:
        parts = urlsplit(iri_to_uri(value))
        port = parts.port
    except ValueError:  # a port not a number or out of range, a name IDNA cannot encode
        return None
    host = parts.hostname
    if (
        parts.scheme.lower() not in ("http", "https")
        or not host
        or not _BASE_HOST.match(host)
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        return None
    return f"{parts.scheme.lower()}://{host if port is None else f'{host}:{port}'}"


def listed_hosts(settings: dict) -> tuple[str, ...]:
    names = settings.get("ALLOWED_HOSTS") or ()
    return _names(names) if isinstance(names, str) else tuple(names)  # (a mapping may hold text)


def allowed_hosts(settings: dict) -> tuple[str, ...]:
    """The Host names a request may carry: TRUSTED_HOSTS's and PUBLIC_BASE_URL's host; none
    (any Host is answered) when neither is set."""
    names = listed_hosts(settings)
    base = public_base_url(settings)
    host = urlsplit(base).hostname if base else None
    return names if host is None or host in names else (*names, host)
