"""What no environment starts with, and what production refuses: one line per problem, all named."""

from .settings import ENVIRONMENTS, HOST_NAME, listed_hosts, public_base_url


def _public_base_url_form(settings: dict) -> str | None:
    value = settings.get("PUBLIC_BASE_URL")
    if value and public_base_url(settings) is None:
        return (
            f"PUBLIC_BASE_URL={value!r} is not a scheme and host, as https://api.example.com "
            "(no path, query or user)"
        )
    return None


def _trusted_hosts_form(settings: dict) -> str | None:
    wrong = [name for name in listed_hosts(settings) if not HOST_NAME.match(name)]
    if wrong:
        return (
            f"TRUSTED_HOSTS holds {', '.join(map(repr, wrong))}: host names only, as "
            "api.example.com or .example.com (no scheme, port or path)"
        )
    return None


# What no environment starts with: each returns its problem as one line, or None.
FORM_CHECKS = (_public_base_url_form, _trusted_hosts_form)


class UnsafeSettings(SystemExit):
    """Settings the app refuses, one line per problem in `problems`. A SystemExit, so that a
    command (`flask ...`) that meets it prints its lines and exits 1 without a traceback."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _jwt_secret(settings: dict) -> str | None:
    if len((settings.get("JWT_SECRET_KEY") or "").encode()) < 32:
        return "JWT_SECRET_KEY must be set, at least 32 bytes long"
    return None


def _database_url(settings: dict) -> str | None:
    url = settings.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        return "DATABASE_URL must be set (PostgreSQL)"
    if url.startswith("sqlite") and not settings.get("ALLOW_UNSAFE_SQLITE"):
        return (
            "DATABASE_URL is SQLite (one host, one writer): use PostgreSQL, "
            "or ALLOW_UNSAFE_SQLITE=1"
        )
    return None


def _mail_server(settings: dict) -> str | None:
    if not settings.get("MAIL_SERVER"):
        return "MAIL_SERVER must be set (invite mail is sent through it)"
    return None


def _rate_limits(settings: dict) -> str | None:
    if not settings["RATELIMIT_ENABLED"]:
        if not settings.get("ALLOW_UNSAFE_NO_RATE_LIMITS"):
            return (
                "RATELIMIT_ENABLED is false (sign-in guesses go uncounted): turn it on, "
                "or ALLOW_UNSAFE_NO_RATE_LIMITS=1"
            )
        return None
    storage = settings["RATELIMIT_STORAGE_URI"]
    if storage.startswith("memory://") and not settings.get("ALLOW_UNSAFE_MEMORY_RATE_LIMITS"):
        return (
            "RATELIMIT_STORAGE_URI is memory:// (a count per process): use redis://, "
            "or ALLOW_UNSAFE_MEMORY_RATE_LIMITS=1"
        )
    return None


def _cors_origins(settings: dict) -> str | None:
    origins = [o.strip() for o in settings["CORS_ORIGINS"].split(",")]
    if "*" in origins and not settings.get("ALLOW_UNSAFE_ANY_ORIGIN"):
        return (
            "CORS_ORIGINS is '*' (any site may call): name the origins, "
            "or ALLOW_UNSAFE_ANY_ORIGIN=1"
        )
    return None


def _host_header(settings: dict) -> str | None:
    if settings.get("PUBLIC_BASE_URL") or settings.get("ALLOWED_HOSTS"):
        return None
    if settings.get("ALLOW_UNSAFE_HOST_HEADER"):
        return None
    return (
        "PUBLIC_BASE_URL is not set (links and Location would name any Host a client sends): "
        "set it (or TRUSTED_HOSTS), or ALLOW_UNSAFE_HOST_HEADER=1"
    )


# What production refuses: each returns its problem as one line, or None. Add to the end.
PRODUCTION_CHECKS = (
    _jwt_secret,
    _database_url,
    _mail_server,
    _rate_limits,
    _cors_origins,
    _host_header,
)


def settings_problems(settings: dict) -> list[str]:
    """One line per reason these settings may not start the app; none when they may."""
    environment = settings["JSONAPI_SERVER_ENV"]
    if environment not in ENVIRONMENTS:
        return [f"JSONAPI_SERVER_ENV={environment!r} is none of: {', '.join(ENVIRONMENTS)}"]
    problems = [problem for problem in (check(settings) for check in FORM_CHECKS) if problem]
    if environment == "production":
        refused = (check(settings) for check in PRODUCTION_CHECKS)
        problems += [f"JSONAPI_SERVER_ENV=production refuses to start: {p}" for p in refused if p]
    return problems


def check_settings(settings: dict) -> None:
    """Refuse settings_problems, naming every one at once."""
    problems = settings_problems(settings)
    if problems:
        raise UnsafeSettings(problems)
