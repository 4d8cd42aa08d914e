"""The service's times: one clock, kept to the millisecond (the precision of every time it
stores and writes: JavaScript's Date holds no more), and one wire form, written as
`2021-11-23T14:38:03.250Z` and read in any RFC 3339 form."""

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import overload

_RFC3339 = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})"
    r"(?:\.(?P<fraction>\d{1,9}))?"
    r"(?P<zone>[Zz]|[+-]\d{2}:\d{2}| UTC)$"
)


def truncate_to_millisecond(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


def utc_now() -> datetime:
    return truncate_to_millisecond(datetime.now(UTC))


_WIRE_FORMAT = "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ"


@overload
def format_timestamp(value: datetime) -> str: ...
@overload
def format_timestamp(value: None) -> None: ...


@lru_cache(maxsize=4096)
def format_timestamp(value: datetime | None) -> str | None:
    """Exactly what JavaScript's Date.toISOString() writes: three fraction digits and `Z`.
    Remembered per value, as a row's times repeat (equal instants in any zone write alike)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    # Quicker than isoformat(timespec=...), far quicker than strftime; every row writes several.
    return _WIRE_FORMAT % (
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond // 1000,
    )


@lru_cache(maxsize=4096)
def format_timestamp_text(text: str) -> str:
    """format_timestamp of a timestamp given as ISO 8601 text with its offset, as PostgreSQL
    writes a timestamptz (`2021-11-23 14:38:03.25+00`). Remembered per text, as above."""
    return format_timestamp(datetime.fromisoformat(text))


def parse_timestamp(text: str) -> datetime:
    """Read RFC 3339 (any offset, any fraction) or the seed's `2021-11-23 14:38:02 UTC`, as
    an aware UTC time truncated to the millisecond; ValueError for anything else."""
    if not isinstance(text, str):
        raise ValueError("Not a valid timestamp.")
    match = _RFC3339.match(text.strip())
    if not match:
        raise ValueError("Not a valid RFC 3339 timestamp.")
    try:
        base = datetime.strptime(f"{match['date']} {match['time']}", "%Y-%m-%d %H:%M:%S")
    except ValueError as error:
        raise ValueError("Not a valid RFC 3339 timestamp.") from error
    fraction = (match["fraction"] or "").ljust(6, "0")[:6]
    zone = match["zone"].strip()
    if zone in ("Z", "z", "UTC"):
        offset = timedelta(0)
    else:
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError("Not a valid RFC 3339 timestamp.")
        offset = sign * timedelta(hours=hours, minutes=minutes)
    try:
        value = base.replace(microsecond=int(fraction), tzinfo=UTC) - offset
    except OverflowError as error:  # 0001-01-01T00:00:00+14:00 is before the year 1
        raise ValueError("The timestamp is outside the years 1 to 9999 in UTC.") from error
    return truncate_to_millisecond(value)
