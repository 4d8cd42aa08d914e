"""Query parameters: include, fields[...], sort, filter[...] and page[...], checked against
what the endpoint declares; anything unknown or malformed is a 400 naming the parameter."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from werkzeug.datastructures import MultiDict

from .errors import bad_parameter

SPEC_FAMILIES = {"include", "fields", "sort", "page", "filter"}
PAGE_MEMBERS = ("number", "size", "offset", "limit")
MAX_INCLUDE_DEPTH = 2  # a relationship, and one more level through it
_FAMILY = re.compile(r"^(?P<base>[^\[\]]+)(?P<members>(?:\[[^\[\]]*\])*)$")
_ALL_LOWERCASE = re.compile(r"^[a-z]+$")
# JSON:API member names: letters, digits or U+0080 and above at both ends; `-`, `_` and space
# inside. A parameter whose name breaks this is a 400 (JSON:API 1.1, query parameters).
_NAME_END = r"[a-zA-Z0-9\u0080-\U0010ffff]"
_MEMBER_NAME = re.compile(rf"^{_NAME_END}(?:[a-zA-Z0-9\u0080-\U0010ffff_ -]*{_NAME_END})?$")
_DIGITS = re.compile(r"^[0-9]+$")
PULL_FILTER = "updated_since"  # API.md: a pull of everything changed after a cursor
MAX_OFFSET = 10**9  # keeps OFFSET far inside what any database accepts


def member_name(text: str) -> str:
    """Query parameters may name members snake_case or dasherized; documents use snake_case."""
    return text.strip().replace("-", "_")


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
    style: str = (
        "number"  # "number" (page[number]/page[size]) or "offset" (page[offset]/page[limit])
    )

    @property
    def number(self) -> int:
        return self.offset // self.size + 1


@dataclass(frozen=True)
class QueryParams:
    include: tuple[str, ...] = ()
    include_requested: bool = False
    fields: Mapping[str, frozenset[str]] = field(default_factory=dict)
    sort: tuple[SortKey, ...] = ()
    sort_requested: str | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)
    filters_requested: Mapping[str, str] = field(default_factory=dict)
    page: Page | None = None

    def fields_for(self, type_: str) -> frozenset[str] | None:
        return self.fields.get(type_)

    @property
    def collection_page(self) -> Page:
        """The page a collection's parameters ask for (parse_query gives one to each)."""
        if self.page is None:
            raise TypeError("not the query parameters of a collection: they have no page")
        return self.page

    def listing(self) -> dict[str, Any]:
        """What a collection's service takes: filters, sort and the page's window."""
        page = self.collection_page
        return {
            "filters": self.filters,
            "sort": self.sort,
            "offset": page.offset,
            "size": page.size,
        }


class ResourceShape(Protocol):
    """What query parsing needs to know of the resource types (given by the schema layer)."""

    def field_names(self, type_: str) -> set[str] | None:
        """The attribute and relationship names of a type; None when there is no such type."""

    def relationship_type(self, type_: str, relationship: str) -> str | None:
        """The type a relationship points at; None when `type_` has no such relationship."""


def parse_query(
    args: MultiDict,
    *,
    primary_type: str,
    shape: ResourceShape,
    collection: CollectionSpec | None = None,
) -> QueryParams:
    """Parse and check every query parameter for an endpoint serving `primary_type`."""
    values: dict[str, Any] = {"fields": {}, "filters": {}, "filters_requested": {}}
    page_parts: dict[str, tuple[str, str]] = {}
    for key in args:
        raw_values = args.getlist(key)
        if "\x00" in key or any("\x00" in raw for raw in raw_values):
            # No value of ours holds one, and PostgreSQL refuses them in text.
            raise bad_parameter(key, f"{key!r} holds a NUL character.")
        match = _FAMILY.match(key)
        if not match:
            raise bad_parameter(key, f"{key!r} is not a valid query parameter name.")
        base = match["base"]
        members = re.findall(r"\[([^\[\]]*)\]", match["members"])
        if base not in SPEC_FAMILIES:
            if _ALL_LOWERCASE.match(base) or not _MEMBER_NAME.match(base):
                raise bad_parameter(
                    key, f"Unknown query parameter {key!r}.", code="unknown_parameter"
                )
            continue  # legal implementation-specific names (not all a-z) are ignored
        if base == "filter":
            _parse_filter(key, members, raw_values, collection, values)
            continue
        if len(raw_values) > 1:
            raise bad_parameter(key, f"{key!r} may be given only once.")
        raw = raw_values[0]
        if base == "include":
            _no_members(key, members)
            values["include"] = _parse_include(raw, primary_type, shape)
            values["include_requested"] = True
        elif base == "fields":
            type_, names = _parse_fields(key, members, raw, shape)
            values["fields"][type_] = names
        elif base == "sort":
            _no_members(key, members)
            if collection is None:
                raise bad_parameter("sort", "This endpoint does not support sorting.")
            values["sort"], values["sort_requested"] = _parse_sort(raw, collection)
        elif base == "page":
            if collection is None:
                raise bad_parameter(key, "This endpoint is not paginated.")
            if len(members) != 1 or members[0] not in PAGE_MEMBERS:
                raise bad_parameter(
                    key, "Pagination uses page[number]/page[size] or page[offset]/page[limit]."
                )
            page_parts[members[0]] = (key, raw)
    if collection is not None:
        values["page"] = _parse_page(page_parts, collection)
        if PULL_FILTER in values["filters"]:
            _check_pull(values, page_parts)
        if "sort" not in values:
            values["sort"], _ = _parse_sort(collection.default_sort, collection)
    return QueryParams(**values)


def check_no_query(args: MultiDict) -> None:
    """For a document that holds no resources (the entry document): no JSON:API query
    parameter applies, so each is a 400, as is a malformed or unknown name; legal
    implementation-specific names are ignored, as everywhere."""
    for key in args:
        match = _FAMILY.match(key)
        if not match:
            raise bad_parameter(key, f"{key!r} is not a valid query parameter name.")
        base = match["base"]
        if base in SPEC_FAMILIES:
            raise bad_parameter(key, f"This document holds no resources: {key!r} does not apply.")
        if _ALL_LOWERCASE.match(base) or not _MEMBER_NAME.match(base):
            raise bad_parameter(key, f"Unknown query parameter {key!r}.", code="unknown_parameter")


def _check_pull(values: dict, page_parts: dict[str, tuple[str, str]]) -> None:
    """Pulls are ordered by version and paged by their cursor alone."""
    if "sort" in values:
        raise bad_parameter("sort", "Pulls (filter[updated_since]) are ordered by version.")
    if values["page"].offset > 0:
        key = next(
            key for key, _ in page_parts.values() if "size" not in key and "limit" not in key
        )
        raise bad_parameter(key, "Pulls continue from their cursor, not from a page number.")


def _no_members(key: str, members: list[str]) -> None:
    if members:
        raise bad_parameter(key, f"{key!r} is not a valid query parameter.")


def _parse_include(raw: str, primary_type: str, shape: ResourceShape) -> tuple[str, ...]:
    paths: list[str] = []
    for text in raw.split(","):
        if not text.strip():
            continue
        segments = [member_name(segment) for segment in text.split(".")]
        if len(segments) > MAX_INCLUDE_DEPTH:
            raise bad_parameter(
                "include", f"Include path {text!r} is deeper than {MAX_INCLUDE_DEPTH} levels."
            )
        current = primary_type
        for segment in segments:
            related = shape.relationship_type(current, segment)
            if related is None:
                raise bad_parameter(
                    "include", f"{text!r} is not a relationship path of {primary_type}."
                )
            current = related
        path = ".".join(segments)
        if path not in paths:
            paths.append(path)
    return tuple(paths)


def _parse_fields(
    key: str, members: list[str], raw: str, shape: ResourceShape
) -> tuple[str, frozenset[str]]:
    if len(members) != 1 or not members[0].strip():
        raise bad_parameter(key, "Sparse fieldsets are written fields[type]=a,b.")
    type_ = member_name(members[0])
    known = shape.field_names(type_)
    if known is None:
        raise bad_parameter(key, f"Unknown resource type {members[0]!r}.")
    names = [member_name(name) for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise bad_parameter(key, f"{type_} has no field {unknown[0]!r}.")
    return type_, frozenset(names)


def _parse_sort(raw: str, collection: CollectionSpec) -> tuple[tuple[SortKey, ...], str]:
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


def _parse_filter(
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


def _parse_positive(key: str, raw: str, *, minimum: int, maximum: int | None = None) -> int:
    if not _DIGITS.match(raw.strip()):
        raise bad_parameter(key, f"{key} must be an integer of at least {minimum}.")
    raw = raw.strip().lstrip("0") or "0"
    if len(raw) > 12:  # far past any maximum; int() of a huge string is refused anyway
        raise bad_parameter(key, f"{key} is too large.")
    value = int(raw)
    if value < minimum:
        raise bad_parameter(key, f"{key} must be at least {minimum}.")
    if maximum is not None and value > maximum:
        raise bad_parameter(key, f"{key} must be at most {maximum}.")
    return value


def _parse_page(parts: dict[str, tuple[str, str]], collection: CollectionSpec) -> Page:
    numbered = {"number", "size"} & set(parts)
    offset_style = {"offset", "limit"} & set(parts)
    if numbered and offset_style:
        key = parts[sorted(offset_style)[0]][0]
        raise bad_parameter(
            key, "Use page[number]/page[size] or page[offset]/page[limit], not both."
        )
    maximum = collection.max_page_size
    if offset_style:
        limit = collection.default_page_size
        if "limit" in parts:
            limit = _parse_positive(*parts["limit"], minimum=1, maximum=maximum)
        offset = 0
        if "offset" in parts:
            offset = _parse_positive(*parts["offset"], minimum=0, maximum=MAX_OFFSET)
        return Page(offset=offset, size=limit, style="offset")
    size = collection.default_page_size
    if "size" in parts:
        size = _parse_positive(*parts["size"], minimum=1, maximum=maximum)
    number = 1
    if "number" in parts:
        number = _parse_positive(*parts["number"], minimum=1, maximum=MAX_OFFSET // size + 1)
    return Page(offset=(number - 1) * size, size=size)
