"""The service's one clock: aware UTC datetimes kept to the millisecond, the precision of every
time it stores and writes (JavaScript's Date holds no more)."""

from datetime import UTC, datetime


def truncate_to_millisecond(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


def utc_now() -> datetime:
    return truncate_to_millisecond(datetime.now(UTC))
