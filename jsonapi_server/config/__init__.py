"""Settings as data, and the refusals that keep an unsafe production from starting."""

from .refusals import UnsafeSettings, check_settings, settings_problems
from .settings import (
    ENVIRONMENT,
    INSTANCE_PATH_VARIABLE,
    complete_settings,
    instance_path,
    load_settings,
    normalize_database_url,
    public_base_url,
)

__all__ = [
    "ENVIRONMENT",
    "INSTANCE_PATH_VARIABLE",
    "UnsafeSettings",
    "check_settings",
    "complete_settings",
    "instance_path",
    "load_settings",
    "normalize_database_url",
    "public_base_url",
    "settings_problems",
]
