"""Pagination `meta` (the seed's shape) and the first/last/prev/next links of a collection."""

import math

from werkzeug.datastructures import MultiDict

from .collection_query import Page
from .query import QueryParams
from .urls import with_query

_PAGE_KEYS = {"page[number]", "page[size]", "page[offset]", "page[limit]"}


def collection_meta(params: QueryParams, total_count: int) -> dict:
    """`{"pagination": {...}, "sort": ..., "filter": {...}}` exactly as the v2 seed shows."""
    page = params.collection_page
    return {
        "pagination": {
            "page": page.number,
            "per_page": page.size,
            "total_count": total_count,
            "total_pages": math.ceil(total_count / page.size),
        },
        "sort": params.sort_requested,
        "filter": dict(params.filters_requested),
    }


def page_url(base: str, args: MultiDict, page: Page, offset: int) -> str:
    """The request URL with its page parameters replaced, keeping the client's style."""
    pairs = [(key, value) for key, value in args.items(multi=True) if key not in _PAGE_KEYS]
    if page.style == "offset":
        pairs += [("page[offset]", str(offset)), ("page[limit]", str(page.size))]
    else:
        pairs += [("page[number]", str(offset // page.size + 1)), ("page[size]", str(page.size))]
    return with_query(base, pairs)


def pagination_links(base: str, args: MultiDict, page: Page, total_count: int) -> dict:
    """first/last always (page 1 when empty); prev/next null where there is none."""
    last_offset = max(math.ceil(total_count / page.size) - 1, 0) * page.size
    prev_offset = None
    if page.offset > 0:
        prev_offset = min(max(page.offset - page.size, 0), last_offset)
    next_offset = page.offset + page.size if page.offset + page.size < total_count else None
    return {
        "first": page_url(base, args, page, 0),
        "last": page_url(base, args, page, last_offset),
        "prev": None if prev_offset is None else page_url(base, args, page, prev_offset),
        "next": None if next_offset is None else page_url(base, args, page, next_offset),
    }
