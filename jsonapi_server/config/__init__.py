"""Settings as data (defaults, the environment, then a mapping given to create_app) and the
refusals that keep an unsafe production from starting."""

from .refusals import UnsafeSettings, check_settings, settings_problems
from .settings import (
    ENVIRONMENT,
    INSTANCE_PATH_VARIABLE,
    allowed_hosts,
    check_sync_settings,
    development_jwt_secret,
    instance_path,
    load_settings,
    normalize_database_url,
    postgresql_engine_options,
    public_base_url,
)

__all__ = [
    "ENVIRONMENT",
    "INSTANCE_PATH_VARIABLE",
    "UnsafeSettings",
    "allowed_hosts",
    "check_settings",
    "check_sync_settings",
    "development_jwt_secret",
    "instance_path",
    "load_settings",
    "normalize_database_url",
    "postgresql_engine_options",
    "public_base_url",
    "settings_problems",
]
