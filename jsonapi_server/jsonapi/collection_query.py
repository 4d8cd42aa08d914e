"""What a collection endpoint lets clients ask for, and its sort, filter[...] and page[...]
parameters read against that: anything unknown or malformed is a 400 naming the parameter."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import bad_parameter
from .member_names import member_name

PAGE_MEMBERS = ("number", "size", "offset", "limit")
_DIGITS = re.compile(r"^[0-9]+$")
PULL_FILTER = "updated_since"  # API.md: a pull of everything changed after a cursor
MAX_OFFSET = 10**9  # keeps OFFSET far inside what any database accepts


class CollectionSpec(Protocol):
    """What a collection endpoint lets clients ask for (the service layer's listings say it)."""

    @property
    def sort_fields(self) -> frozenset[str]: ...
    @property
    def filters(self) -> Mapping[str, Callable[[str], Any]]: ...  # name -> parser (ValueError)
    @property
    def default_sort(self) -> str: ...
    @property
    def default_page_size(self) -> int: ...
    @property
    def max_page_size(self) -> int: ...


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool


@dataclass(frozen=True)
class Page:
    offset: int
    size: int
    # "number" (page[number]/page[size]) or "offset" (page[offset]/page[limit])
    style: str = "number"

    @property
    def number(self) -> int:
        return self.offset // self.size + 1


def check_pull(values: dict, page_parts: dict[str, tuple[str, str]]) -> None:
    """Pulls are ordered by version and paged by their cursor alone."""
    if "sort" in values:
        raise bad_parameter("sort", "Pulls (filter[updated_since]) are ordered by version.")
    if values["page"].offset > 0:
        key = next(
            key for key, _ in page_parts.values() if "size" not in key and "limit" not in key
        )
        raise bad_parameter(key, "Pulls continue from their cursor, not from a page number.")


def parse_sort(raw: str, collection: CollectionSpec) -> tuple[tuple[SortKey, ...], str]:
    keys: list[SortKey] = []
    for text in raw.split(","):
        text = text.strip()
        descending = text.startswith("-")
        name = member_name(text[1:] if descending else text)
        if not name:
            raise bad_parameter("sort", "Empty sort field.")
        if name not in collection.sort_fields:
            allowed = ", ".join(sorted(collection.sort_fields))
            raise bad_parameter(
                "sort", f"Cannot sort by {name!r}; sort by {allowed}.", code="unsupported_sort"
            )
        if any(key.field == name for key in keys):
            raise bad_parameter("sort", f"{name!r} is named twice in sort.")
        keys.append(SortKey(name, descending))
    canonical = ",".join(("-" if key.descending else "") + key.field for key in keys)
    return tuple(keys), canonical


def parse_filter(
    key: str,
    members: list[str],
    raw_values: list[str],
    collection: CollectionSpec | None,
    values: dict,
) -> None:
    if collection is None:
        raise bad_parameter(key, "This endpoint does not support filtering.")
    array = len(members) == 2 and members[1] == ""  # jQuery style: filter[id][]=a&filter[id][]=b
    if not (len(members) == 1 or array) or not members[0].strip():
        raise bad_parameter(key, "Filters are written filter[name]=value.")
    name = member_name(members[0])
    if name not in collection.filters:
        allowed = ", ".join(sorted(collection.filters)) or "nothing"
        raise bad_parameter(key, f"Unknown filter {name!r}; filter by {allowed}.")
    if len(raw_values) > 1 and not array:
        raise bad_parameter(key, f"{key!r} may be given only once.")
    if name in values["filters"]:
        raise bad_parameter(key, f"filter[{name}] is given twice.")
    raw = ",".join(raw_values)
    try:
        values["filters"][name] = collection.filters[name](raw)
    except ValueError as error:
        raise bad_parameter(key, f"Invalid filter[{name}]: {error}") from error
    values["filters_requested"][name] = raw


def _parse_positive(key: str, raw: str, *, minimum: int, maximum: int) -> int:
    if not _DIGITS.match(raw.strip()):
        raise bad_parameter(key, f"{key} must be an integer of at least {minimum}.")
    raw = raw.strip().lstrip("0") or "0"
    if len(raw) > 12:  # far past any maximum; int() of a huge string is refused anyway
        raise bad_parameter(key, f"{key} is too large.")
    value = int(raw)
    if value < minimum:
        raise bad_parameter(key, f"{key} must be at least {minimum}.")
    if value > maximum:
        raise bad_parameter(key, f"{key} must be at most {maximum}.")
    return value


def parse_page(parts: dict[str, tuple[str, str]], collection: CollectionSpec) -> Page:
    numbered = {"number", "size"} & set(parts)
    offset_style = {"offset", "limit"} & set(parts)
    if numbered and offset_style:
        key = parts[sorted(offset_style)[0]][0]
        raise bad_parameter(
            key, "Use page[number]/page[size] or page[offset]/page[limit], not both."
        )
    size_member = "limit" if offset_style else "size"
    size = collection.default_page_size
    if size_member in parts:
        size = _parse_positive(*parts[size_member], minimum=1, maximum=collection.max_page_size)
    if offset_style:
        offset = 0
        if "offset" in parts:
            offset = _parse_positive(*parts["offset"], minimum=0, maximum=MAX_OFFSET)
        return Page(offset=offset, size=size, style="offset")
    number = 1
    if "number" in parts:
        number = _parse_positive(*parts["number"], minimum=1, maximum=MAX_OFFSET // size + 1)
    return Page(offset=(number - 1) * size, size=size)
