"""What a view says it serves (its OperationSpec, and whether it is rate-limited): the
declarations the OpenAPI document and the routing helpers read."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from .schema import ResourceSchema

_RATE_LIMITED = "openapi_rate_limited"


@dataclass(frozen=True)
class OperationSpec:
    kind: str
    schema: type[ResourceSchema] | None  # what the answer holds (None: plain JSON)
    request: type[ResourceSchema] | Literal["identifiers"] | None = None  # a create/update schema
    collection: Any = None  # the listing whose sorts and filters the query may use
    public: bool = False
    status: int = 200
    many: bool = False
    summary: str | None = None
    # What the service answers besides what the kind, body and route imply (410 for an
    # expired invite, say); for plain JSON, the other statuses its answer comes with.
    statuses: tuple[int, ...] = ()
    answer: dict | None = None  # the JSON Schema of a plain JSON answer
    document: dict | None = None  # the schema of a JSON:API document holding no resource


def describe(kind: str, schema: type[ResourceSchema] | None, **options) -> Callable:
    """Attach the operation a view serves (read by the OpenAPI generator)."""

    def mark(view):
        view.openapi = OperationSpec(kind=kind, schema=schema, **options)
        return view

    return mark


def mark_rate_limited(view: Callable) -> Callable:
    """Say that a view is rate-limited (429), for the document."""
    setattr(view, _RATE_LIMITED, True)
    return view


def _chain(view, method: str) -> Iterator:
    """The view serving `method` and every function it wraps."""
    views = getattr(view, "views", None)
    if views is not None:
        view = views.get(method)
    while view is not None:
        yield view
        view = getattr(view, "__wrapped__", None)


def spec_of(view, method: str) -> OperationSpec | None:
    return next((f.openapi for f in _chain(view, method) if hasattr(f, "openapi")), None)


def rate_limited(view, method: str) -> bool:
    return any(getattr(f, _RATE_LIMITED, False) for f in _chain(view, method))
