"""Listings: the sorts and filters a collection offers, and one way to fetch a page of it
(filters applied, a stable order with `id` breaking ties, one count and one page query)."""

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select

from jsonapi_server.extensions import db

MAX_FILTER_VALUES = 100


@dataclass(frozen=True)
class Filter:
    parse: Callable[[str], Any]  # raises ValueError with a message for the client
    apply: Callable[[Select, Any], Select]


@dataclass(frozen=True)
class PageResult:
    items: list
    total_count: int


@dataclass(frozen=True)
class Listing:
    sorts: Mapping[str, Any]  # name -> column
    id_column: Any
    filters_by_name: Mapping[str, Filter] = field(default_factory=dict)
    default_sort: str = "-created_at"
    default_page_size: int = 25
    max_page_size: int = 100

    @property
    def sort_fields(self) -> frozenset[str]:
        return frozenset(self.sorts)

    @property
    def filters(self) -> dict[str, Callable[[str], Any]]:
        return {name: spec.parse for name, spec in self.filters_by_name.items()}

    def fetch_page(
        self,
        statement: Select,
        *,
        filters: Mapping[str, Any],
        sort: Sequence[Any],  # items with .field and .descending
        offset: int,
        size: int,
    ) -> PageResult:
        for name, value in filters.items():
            statement = self.filters_by_name[name].apply(statement, value)
        total = db.session.scalar(
            select(func.count()).select_from(statement.order_by(None).subquery())
        )
        order = [
            self.sorts[key.field].desc() if key.descending else self.sorts[key.field].asc()
            for key in sort
        ]
        if not any(key.field == "id" for key in sort):
            order.append(self.id_column.asc())
        items = db.session.scalars(statement.order_by(*order).offset(offset).limit(size)).all()
        return PageResult(items=list(items), total_count=total or 0)


def parse_uuid_list(raw: str) -> list[uuid.UUID]:
    """`a,b,c` (Ember's coalesced finds) -> UUIDs."""
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts:
        raise ValueError("give one or more ids, separated by commas")
    if len(parts) > MAX_FILTER_VALUES:
        raise ValueError(f"at most {MAX_FILTER_VALUES} ids")
    try:
        return [uuid.UUID(part) for part in parts]
    except ValueError as error:
        raise ValueError("ids are UUIDs") from error


def parse_text(raw: str, max_length: int = 254) -> str:
    text = raw.strip()
    if not text:
        raise ValueError("must not be empty")
    if len(text) > max_length:
        raise ValueError(f"at most {max_length} characters")
    return text
