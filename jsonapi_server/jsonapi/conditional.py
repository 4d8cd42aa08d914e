"""Conditional requests for syncable resources: a strong ETag derived from the version
(`updated_in_db_at`), If-None-Match -> 304, and the write base a client sends either as
`data.attributes.updated_in_db_at` or as If-Match."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jsonapi_server.times import truncate_to_millisecond

from .current import current_request
from .errors import JsonApiError
from .media import split_outside_quotes

NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # the version of an ETag we did not write: stale
# RFC 9110 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; If-Match is "*" or a list of them.
_ENTITY_TAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"'
_IF_MATCH = re.compile(rf"[ \t]*(?:\*|{_ENTITY_TAG}(?:[ \t]*,[ \t]*{_ENTITY_TAG})*)[ \t]*")


def etag_for(version: datetime, extra: str = "") -> str:
    milliseconds = int(truncate_to_millisecond(version).timestamp() * 1000)
    return f'"{milliseconds}{"-" + extra if extra else ""}"'


def version_of(etag: str) -> datetime:
    """The version an ETag of ours names; any other tag names one that is never current."""
    tag = etag.strip().removeprefix("W/").strip('"').split("-", 1)[0]
    if not tag.isascii() or not tag.isdigit() or len(tag) > 15:
        return NEVER
    try:
        return datetime.fromtimestamp(int(tag) / 1000, UTC)
    except (ValueError, OverflowError, OSError):  # past the year 9999: not a version of ours
        return NEVER


def _tags(header: str) -> list[str]:
    return [tag for tag in split_outside_quotes(header, ",") if tag]


def not_modified(current_etag: str) -> bool:
    """If-None-Match names the current representation (weak comparison, as for GET)."""
    header = current_request().headers.get("If-None-Match")
    if not header:
        return False
    bare = current_etag.removeprefix("W/")
    return any(tag == "*" or tag.removeprefix("W/") == bare for tag in _tags(header))


@dataclass(frozen=True)
class WriteBase:
    """The version a write is based on; `precondition` when it came as If-Match (412)."""

    version: datetime | None
    precondition: bool = False


def if_match_base() -> WriteBase:
    """The base If-Match names; a header that is not `*` or entity tags is 400."""
    header = current_request().headers.get("If-Match")
    if not header or not header.strip():
        return WriteBase(None)
    if not _IF_MATCH.fullmatch(header):
        raise JsonApiError(
            400,
            "invalid_header",
            'If-Match must be "*" or entity tags, such as the ETag a read of the resource gave.',
            header="If-Match",
        )
    if header.strip() == "*":
        return WriteBase(None)
    return WriteBase(version_of(_tags(header)[0]), precondition=True)


def write_base(values: dict[str, Any]) -> WriteBase:
    """Take the base out of loaded attributes and If-Match; both given must agree (else 400).
    `"updated_in_db_at": null` is no base."""
    body = values.pop("updated_in_db_at", None)
    header = if_match_base()
    if body is not None and header.version is not None and body != header.version:
        raise JsonApiError(
            400,
            "base_mismatch",
            "data.attributes.updated_in_db_at and If-Match name different versions.",
            header="If-Match",
        )
    if header.version is not None:
        return header
    return WriteBase(body)
