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


def _flag(value: str) -> bool:
    return value.strip().lower() not in ("0", "false", "no", "off")


def _names(value: str) -> tuple[str, ...]:
    return tuple(name.strip().lower() for name in value.split(",") if name.strip())


def _seconds(value: str) -> timedelta:
    return timedelta(seconds=int(value))


# Setting -> (default, how the environment variable of its name is read, or None: it is not).
SETTINGS: dict[str, tuple[Any, Callable[[str], Any] | None]] = {
    "JSONAPI_SERVER_ENV": ("development", str),
    "SQLALCHEMY_DATABASE_URI": (None, str),  # None: SQLite in the instance folder
    "SQLALCHEMY_ENGINE_OPTIONS": ({}, None),
    # Pooled connections idle longer than this are checked before use (connections.py).
    "DATABASE_PING_AFTER_IDLE_SECONDS": (10.0, float),
    # Repeated reads as server-side prepared statements (jsonapi_server.db.prepared); off behind
    # a pooler that shares server connections between clients (PgBouncer's transaction mode).
    "DATABASE_PREPARED_STATEMENTS": (True, _flag),
    "JWT_SECRET_KEY": (None, str),  # None in development: a key kept in the instance folder
    "JWT_ACCESS_TOKEN_EXPIRES": (timedelta(minutes=15), _seconds),
    "JWT_REFRESH_TOKEN_EXPIRES": (timedelta(days=30), _seconds),
    "JWT_TOKEN_LOCATION": (["headers"], None),
    "JWT_ALGORITHM": ("HS256", None),
    "PASSWORD_HASH_METHOD": ("scrypt", str),
    "MAX_CONTENT_LENGTH": (1024 * 1024, int),
    # The longest an open transaction holds pull cursors back (db.pulls.pull_horizon): no less
    # than WRITE_TRANSACTION_TIMEOUT_SECONDS, PostgreSQL's statement and idle-transaction timeout.
    "SYNC_SAFETY_WINDOW_SECONDS": (30, float),
    "INVITE_TTL_SECONDS": (172800, int),
    "INVITE_RESEND_INTERVAL_SECONDS": (60, int),
    "INVITE_URL_TEMPLATE": ("http://localhost:4200/invites/{invite_id}/accept?code={code}", str),
    # One-time codes that confirm a new email address and reset a password.
    "EMAIL_CHANGE_TTL_SECONDS": (86400, int),
    "EMAIL_CHANGE_URL_TEMPLATE": (
        "http://localhost:4200/email-changes/{email_change_id}/confirm?code={code}",
        str,
    ),
    "PASSWORD_RESET_TTL_SECONDS": (3600, int),
    "PASSWORD_RESET_URL_TEMPLATE": (
        "http://localhost:4200/password-resets/confirm?token={token}",
        str,
    ),
    "OUTBOX_POLL_SECONDS": (2.0, float),
    "OUTBOX_BATCH_SIZE": (20, None),
    "OUTBOX_MAX_BACKOFF_SECONDS": (3600, None),
    # Attempts before a message that keeps failing is marked dead (about 6 h of backoff).
    "OUTBOX_MAX_ATTEMPTS": (10, int),
    "WRITE_TRANSACTION_TIMEOUT_SECONDS": (20, float),
    "MAIL_SERVER": (None, str),
    "MAIL_PORT": (25, int),
    "MAIL_DEFAULT_SENDER": ("jsonapi_server <no-reply@localhost>", str),
    "JSON_SORT_KEYS": (False, None),
    # How many proxies in front of the app set X-Forwarded-* (nginx: 1).
    "PROXY_FIX_X_FOR": (0, int),
    "PROXY_FIX_X_PROTO": (0, int),
    "PROXY_FIX_X_HOST": (0, int),
    # `https://api.example.com`: the scheme and host every link and Location names, whatever
    # Host a request carries. None: the request's own (development).
    "PUBLIC_BASE_URL": (None, str),
    # TRUSTED_HOSTS in the environment: the Host names a request may carry (`.example.com`:
    # its subdomains too), besides PUBLIC_BASE_URL's; empty: any. Not Flask's TRUSTED_HOSTS,
    # which Flask checks before routing, where a health probe could not be let through.
    "ALLOWED_HOSTS": ((), _names),
    "CORS_ORIGINS": ("", str),
    "RATELIMIT_ENABLED": (True, _flag),
    "RATELIMIT_STORAGE_URI": ("memory://", str),
    # Off: flask-limiter would put Retry-After on every answer it counts, a 201 included
    # (api/rate_limits.py gives a 429 its Retry-After).
    "RATELIMIT_HEADERS_ENABLED": (False, None),
    "RATELIMIT_SIGN_IN": ("20/minute", None),
    "RATELIMIT_REGISTRATION": ("20/minute", None),
    "RATELIMIT_INVITE_VERIFICATION": ("20/minute", None),
    "RATELIMIT_INVITE_ACCEPT": ("20/minute", None),
    "RATELIMIT_INVITE_CREATION": ("500/hour", None),
    **dict.fromkeys(UNSAFE_ALLOWANCES, (False, _flag)),
    # Per client address and, apart, per address asked for (a mailbox is not flooded).
    "RATELIMIT_PASSWORD_RESET": ("5/hour", None),
    "RATELIMIT_EMAIL_CHANGE": ("10/hour", None),  # per user: each one mails an address they name
}
# The environment variables named otherwise than their setting.
VARIABLES = {
    "SQLALCHEMY_DATABASE_URI": "DATABASE_URL",
    "JWT_ACCESS_TOKEN_EXPIRES": "JWT_ACCESS_TOKEN_SECONDS",
    "JWT_REFRESH_TOKEN_EXPIRES": "JWT_REFRESH_TOKEN_SECONDS",
    "ALLOWED_HOSTS": "TRUSTED_HOSTS",
}
DEFAULTS = {setting: default for setting, (default, _parse) in SETTINGS.items()}
# Environment variable -> (setting, parser). Only these are read from the environment.
ENVIRONMENT = {
    VARIABLES.get(setting, setting): (setting, parse)
    for setting, (_default, parse) in SETTINGS.items()
    if parse is not None
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
    """The instance folder JSONAPI_SERVER_INSTANCE_PATH names, made absolute as Flask requires;
    None: Flask's own, `instance/` beside the package."""
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


# A host as links write it (a name in its ASCII form, or an IPv4 address) ...
_BASE_HOST = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")
# ... and a name or `.suffix` as werkzeug's host_is_trusted matches it: no scheme, port, path.
HOST_NAME = re.compile(r"^\.?[^\s:/@?#\[\],.][^\s:/@?#\[\],]*$")


def public_base_url(settings: dict) -> str | None:
    """PUBLIC_BASE_URL as every link begins: `scheme://host[:port]`, the host lower-case and in
    its ASCII form; None when it is unset or not such a URL (which settings_problems names)."""
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


def complete_settings(settings: dict, instance_path: str) -> None:
    """What checked settings imply: the hosts, the database and its engine options, and
    development's JWT key."""
    settings["ALLOWED_HOSTS"] = allowed_hosts(settings)
    settings["PUBLIC_BASE_URL"] = public_base_url(settings)
    development_url = f"sqlite:///{os.path.join(instance_path, 'jsonapi_server.sqlite3')}"
    url = normalize_database_url(settings["SQLALCHEMY_DATABASE_URI"] or development_url)
    settings["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("postgresql"):
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = postgresql_engine_options(settings)
    if settings["SYNC_SAFETY_WINDOW_SECONDS"] < settings["WRITE_TRANSACTION_TIMEOUT_SECONDS"]:
        raise RuntimeError(
            "SYNC_SAFETY_WINDOW_SECONDS must be at least WRITE_TRANSACTION_TIMEOUT_SECONDS, "
            "or a pull could miss a write that commits late."
        )
    if not settings["JWT_SECRET_KEY"]:
        settings["JWT_SECRET_KEY"] = development_jwt_secret(instance_path)
