"""Listings: the sorts and filters a collection offers, and one way to fetch a page of it
(filters applied, a stable order with `id` breaking ties, one count and one page query)."""

import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache, partial
from typing import Any, Protocol

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy import inspect as inspect_mapper
from sqlalchemy.exc import NoResultFound

from . import pulls
from .connections import read_connection
from .cursor_reads import all_rows
from .records import RecordReader, record_reader

MAX_FILTER_VALUES = 100


@dataclass(frozen=True)
class Filter:
    parse: Callable[[str], Any]  # raises ValueError with a message for the client
    apply: Callable[[Select, Any], Select] | None = None  # None: the service applies it itself


class CollectionQuery(Protocol):
    """What a client asks of a collection: the protocol layer's parsed query parameters."""

    @property
    def filters(self) -> Mapping[str, Any]: ...
    @property
    def sort(self) -> Sequence[Any]: ...  # items with .field and .descending
    @property
    def include(self) -> Sequence[str]: ...
    @property
    def collection_page(self) -> Any: ...  # its .offset and .size


@dataclass(frozen=True)
class PageResult:
    items: list
    total_count: int


@dataclass(frozen=True)
class Listing:
    sorts: Mapping[str, Any]  # name -> column
    id_column: Any
    filters_by_name: Mapping[str, Filter] = field(default_factory=dict)
    version_column: Any = None  # syncable listings: pulls with filter[updated_since]
    default_sort: str = "-created_at"
    default_page_size: int = 25
    max_page_size: int = 100

    def __post_init__(self):
        # Every collection takes filter[id]=a,b,c (Ember's coalesced finds), unless it
        # declares an `id` filter of its own.
        if "id" not in self.filters_by_name:
            by_id = Filter(
                parse_uuid_list, lambda statement, ids: statement.where(self.id_column.in_(ids))
            )
            object.__setattr__(self, "filters_by_name", {"id": by_id, **self.filters_by_name})

    # Asked of every collection request: worked out once, kept in the instance's __dict__.
    @cached_property
    def sort_fields(self) -> frozenset[str]:
        return frozenset(self.sorts)

    @cached_property
    def filters(self) -> dict[str, Callable[[str], Any]]:
        return {name: spec.parse for name, spec in self.filters_by_name.items()}

    def fetch(
        self,
        scope: "Select | Scope",
        query: CollectionQuery,
        parameters: Mapping[str, Any] | None = None,
    ):
        """A page (PageResult), or with filter[updated_since] a pull (pulls.PullResult), of
        records with their includes; `parameters` fill the scope's bind parameters."""
        filters, sort, requested = query.filters, query.sort, query.collection_page
        include, reader = _reader(self.id_column.class_, query.include)
        statement = scope.statement if isinstance(scope, Scope) else scope
        # A scope's statements are built once per shape. A filter the listing applies puts
        # its value into the statement, so such a listing builds its own; one the service
        # applies itself (the pull's, say) chose the scope instead.
        shared = isinstance(scope, Scope)
        for name, value in filters.items():
            apply = self.filters_by_name[name].apply
            if apply is not None:
                statement = apply(statement, value)
                shared = False
        parameters = dict(parameters or {})
        if "updated_since" in filters:
            since = filters["updated_since"]
            shape: tuple = ("pull", since.id is not None, include)

            def build() -> Select:
                return reader.select(
                    pulls.pull_statement(
                        statement, self.version_column, self.id_column, after_id=shape[1]
                    )
                )

            built = self._shape(scope, shape, build) if shared else build()

            def rows_after(values: dict) -> list:
                return reader.records(_rows(built, {**parameters, **values}, lasting=shared))

            return pulls.pull(rows_after, since, requested.size)

        build_page = partial(self._page_statement, statement, sort, reader)
        shape = ("page", tuple((key.field, key.descending) for key in sort), include)
        page, count = self._shape(scope, shape, build_page) if shared else build_page()
        bounds = {"page_offset": requested.offset, "page_size": requested.size}
        rows = _rows(page, {**parameters, **bounds}, lasting=shared)
        if rows:
            return PageResult(items=reader.records(rows), total_count=rows[0][-1])
        total = _rows(count, parameters, lasting=shared)[0][0] if requested.offset else 0
        return PageResult(items=[], total_count=total)

    def _shape(self, scope: "Select | Scope", shape: tuple, build: Callable[[], Any]) -> Any:
        return _shaped((id(self), scope, shape), build)  # listings are module constants

    def _page_statement(
        self, statement: Select, sort: Sequence[Any], reader: RecordReader
    ) -> tuple[Select, Select]:
        """The page with the collection's size as its last column, and the count alone (for a
        page past the end). The count is an uncorrelated scalar subquery, run once apart from
        the page, so the page's scan and joins stop at offset + size rows (a window count
        would read, and join, every row of the collection)."""
        order = [
            self.sorts[key.field].desc() if key.descending else self.sorts[key.field].asc()
            for key in sort
        ]
        if not any(key.field == "id" for key in sort):
            order.append(self.id_column.asc())
        counted = statement.with_only_columns(self.id_column, maintain_column_froms=True)
        count = select(func.count()).select_from(counted.order_by(None).subquery())
        page = (
            reader.select(statement)
            .add_columns(count.scalar_subquery().label("total"))
            .order_by(*order)
            .offset(bindparam("page_offset"))
            .limit(bindparam("page_size"))
        )
        return page, count


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: a cache key
class Scope:
    """The rows a listing starts from, as a statement built once, with bind parameters for
    a request's values (an organization's id, the caller's id): the statements of each shape
    (sort, includes, page or pull) listed from it are then built once too, not per request."""

    statement: Select


MAX_SHAPES = 512  # shapes differ by sort and includes, which clients choose: the cache is bounded
_SHAPES: dict[tuple, Any] = {}
_SHAPES_LOCK = threading.Lock()


def _shaped(key: tuple, build: Callable[[], Any]) -> Any:
    """The statement for `key` (module constants and client choices), built once."""
    built = _SHAPES.get(key)
    if built is None:
        built = build()
        with _SHAPES_LOCK:  # threaded workers: evicting iterates the dict
            _SHAPES[key] = built
            if len(_SHAPES) > MAX_SHAPES:
                _SHAPES.pop(next(iter(_SHAPES)))  # the oldest
    return built


def read_one(
    statement: Select, parameters: Mapping[str, Any], *, include: Sequence[str] = (), columns=()
) -> tuple[Any, ...]:
    """The first row of `statement` (a module constant selecting a model) as a record with its
    includes, and the values of `columns`: `(record, *values)`, or Nones when there is none."""
    include, reader = _reader(_selected_model(statement), include)
    built = _shaped(
        ("one", id(statement), include, columns),
        lambda: reader.select(statement).add_columns(*columns),
    )
    rows = _rows(built, parameters, lasting=True)
    if not rows:
        return (None,) * (1 + len(columns))
    return (reader.records(rows[:1])[0], *rows[0][len(rows[0]) - len(columns) :])


def read_rows(statement: Select, parameters: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
    """Every row of `statement` (a module constant of plain columns) on the read connection."""
    return all_rows(read_connection(), statement, parameters)


@lru_cache(maxsize=64)  # statements given to read_one are module constants
def _selected_model(statement: Select) -> type:
    return statement.column_descriptions[0]["entity"]


def _reader(model: type, include: Sequence[str]) -> tuple[tuple[str, ...], RecordReader]:
    paths = tuple(sorted(include))
    return paths, record_reader(model, paths)


def _rows(statement: Select, parameters: Mapping[str, Any], *, lasting: bool) -> Sequence[Any]:
    """Plain columns as Core on the request's read connection (no ORM statement setup or row
    loading); one `lasting` (built once and kept, a shape) on the driver's cursor."""
    if lasting:
        return all_rows(read_connection(), statement, parameters)
    return read_connection().execute(statement, parameters).all()


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


def fetch_one(model: type, id_: Any, include_paths: Sequence[str] = ()) -> Any:
    """One row by id as a record with its includes, read as `read_one` reads (a write's
    answer, after its commit). Raises NoResultFound when there is no such row."""
    [item] = read_one(_by_id(model), {"id": id_}, include=include_paths)
    if item is None:
        raise NoResultFound(f"No {model.__name__} {id_}")
    return item


@cache  # one per model
def _by_id(model: type[Any]) -> Select:
    return select(model).where(model.id == bindparam("id"))


def fetch_again(instance: Any, include_paths: Sequence[str] = ()) -> Any:
    """`instance`'s row read again as a record after the commit that wrote it. The id comes
    from the session's identity key: reading `instance.id` after a commit would first load
    every column the commit expired, a statement of its own."""
    [id_] = inspect_mapper(instance).identity
    return fetch_one(type(instance), id_, include_paths)


def parse_boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("true", "false"):
        raise ValueError("true or false")
    return value == "true"


def parse_choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip()
        if value not in choices:
            raise ValueError(f"one of {', '.join(choices)}")
        return value

    return parse
