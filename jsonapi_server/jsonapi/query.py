"""Query parameters: their names, which of the JSON:API families an endpoint takes, and
include and fields[...] checked against the resource types (collection_query reads sort,
filter[...] and page[...]); anything unknown or malformed is a 400 naming the parameter."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from werkzeug.datastructures import MultiDict

from .collection_query import (
    PAGE_MEMBERS,
    PULL_FILTER,
    CollectionSpec,
    Page,
    SortKey,
    check_pull,
    parse_filter,
    parse_page,
    parse_sort,
)
from .errors import bad_parameter
from .member_names import MEMBER_NAME, member_name

SPEC_FAMILIES = {"include", "fields", "sort", "page", "filter"}
MAX_INCLUDE_DEPTH = 2  # a relationship, and one more level through it
_FAMILY = re.compile(r"^(?P<base>[^\[\]]+)(?P<members>(?:\[[^\[\]]*\])*)$")
_ALL_LOWERCASE = re.compile(r"^[a-z]+$")


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

    @property
    def collection_page(self) -> Page:
        """The page a collection's parameters ask for (parse_query gives one to each)."""
        if self.page is None:
            raise TypeError("not the query parameters of a collection: they have no page")
        return self.page


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
        match = _parameter_name(key)
        base = match["base"]
        if base not in SPEC_FAMILIES:
            continue  # legal implementation-specific names (not all a-z) are ignored
        members = re.findall(r"\[([^\[\]]*)\]", match["members"])
        if base == "filter":
            parse_filter(key, members, raw_values, collection, values)
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
            values["sort"], values["sort_requested"] = parse_sort(raw, collection)
        elif base == "page":
            if collection is None:
                raise bad_parameter(key, "This endpoint is not paginated.")
            if len(members) != 1 or members[0] not in PAGE_MEMBERS:
                raise bad_parameter(
                    key, "Pagination uses page[number]/page[size] or page[offset]/page[limit]."
                )
            page_parts[members[0]] = (key, raw)
    if collection is not None:
        values["page"] = parse_page(page_parts, collection)
        if PULL_FILTER in values["filters"]:
            check_pull(values, page_parts)
        if "sort" not in values:
            values["sort"], _ = parse_sort(collection.default_sort, collection)
    return QueryParams(**values)


def check_no_query(args: MultiDict) -> None:
    """For a document that holds no resources (the entry document): no JSON:API query
    parameter applies, so each is a 400; legal implementation-specific names are ignored."""
    for key in args:
        if _parameter_name(key)["base"] in SPEC_FAMILIES:
            raise bad_parameter(key, f"This document holds no resources: {key!r} does not apply.")


def _parameter_name(key: str) -> re.Match:
    """The name's match of _FAMILY; a malformed name, or an unknown one that is not a legal
    implementation-specific name (all a-z are reserved to JSON:API), is a 400."""
    match = _FAMILY.match(key)
    if not match:
        raise bad_parameter(key, f"{key!r} is not a valid query parameter name.")
    base = match["base"]
    if base not in SPEC_FAMILIES and (_ALL_LOWERCASE.match(base) or not MEMBER_NAME.match(base)):
        raise bad_parameter(key, f"Unknown query parameter {key!r}.", code="unknown_parameter")
    return match


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
