"""Responses: the JSON:API media type on every body, `Location` on creates, 204 with no body
and no media type, and the query-parameter and document context a view needs to build them."""

from collections.abc import Callable
from typing import Any

import orjson
from flask import Response

from . import JSONAPI_MEDIA_TYPE
from .collection_query import PULL_FILTER, CollectionSpec
from .conditional import etag_for, not_modified
from .current import current_request, request_globals
from .document import (
    DocumentContext,
    collection_document,
    dump_resources,
    relationship_document,
    resource_document,
    top_level,
)
from .member_names import member_name
from .pagination import collection_meta, pagination_links
from .query import QueryParams, parse_query
from .schema import ResourceSchema, SchemaShape, schema_for
from .urls import current_base_url, current_host_url, current_url, with_query

_SHAPE = SchemaShape()
PULL_PARAMETER = f"filter[{PULL_FILTER}]"


def encode(document: dict) -> bytes:
    """UTF-8 JSON, encoded once (orjson, much quicker than json.dumps). Values orjson
    does not know by their exact type (UUIDs read from the database) are written as text."""
    return orjson.dumps(document, default=str)


class ApiResponse(Response):
    """The application's response class (protocol.init_app): a media type only where one is
    named. werkzeug's default would label every answer without a body text/html: a 204, a 304,
    the empty 200 Flask makes for OPTIONS (a CORS preflight's too)."""

    default_mimetype = None


def jsonapi_response(document: dict | None, status: int = 200, headers: dict | None = None):
    if document is None:
        return ApiResponse(status=status, headers=headers)
    return ApiResponse(
        encode(document), status=status, headers=headers, mimetype=JSONAPI_MEDIA_TYPE
    )


def query_params(
    schema_class: type[ResourceSchema], collection: CollectionSpec | None = None
) -> QueryParams:
    """Parse the request's query string for an endpoint serving `schema_class`."""
    return parse_query(
        current_request().args,
        primary_type=schema_class.type_name(),
        shape=_SHAPE,
        collection=collection,
    )


# g's key for whose private fields this request's caller may see (reveal_private_fields).
_REVEALS_PRIVATE = "reveals_private"


def reveal_private_fields(predicate: Callable[[Any], bool]) -> None:
    """Documents of this request write a resource's private fields when `predicate(resource)`
    is true (the views' layer says who the caller is; without it, no one's are written)."""
    setattr(request_globals(), _REVEALS_PRIVATE, predicate)


def document_context(params: QueryParams) -> DocumentContext:
    return DocumentContext(
        base_url=current_host_url(),
        self_link=current_url(),
        params=params,
        reveals_private=request_globals().get(_REVEALS_PRIVATE),
    )


def etag_of(schema_class: type[ResourceSchema], obj: Any) -> str | None:
    if not schema_class.is_versioned():
        return None
    return etag_for(obj.updated_in_db_at, schema_class.etag_extra(obj))


def resource_response(
    schema_class: type[ResourceSchema],
    obj: Any,
    params: QueryParams,
    *,
    status: int = 200,
    meta: dict | None = None,
    location: bool = False,
):
    """A single resource, with its ETag when it is syncable (a GET naming it in If-None-Match
    is 304); with `location`, a 201 whose Location equals the resource's links.self."""
    headers: dict[str, str] = {}
    etag = etag_of(schema_class, obj)
    if etag:
        headers["ETag"] = etag
        if current_request().method == "GET" and not_modified(etag):
            return jsonapi_response(None, 304, headers)
    context = document_context(params)
    document = resource_document(schema_class, obj, context, meta=meta)
    if location:
        headers["Location"] = document["data"]["links"]["self"]
    return jsonapi_response(document, status, headers)


def listing_response(schema_class: type[ResourceSchema], result: Any, params: QueryParams):
    """A page of a collection with the seed's `meta` and first/last/prev/next links, or a pull
    (`filter[updated_since]`) with `meta.sync` and a `next` link while more remain."""
    if hasattr(result, "total_count"):
        meta = collection_meta(params, result.total_count)
        links = pagination_links(
            current_base_url(), current_request().args, params.collection_page, result.total_count
        )
    else:
        pairs = [
            (key, value)
            for key, value in current_request().args.items(multi=True)
            if member_name(key) != PULL_PARAMETER
        ]
        next_link = None
        if result.has_more:
            next_link = with_query(current_base_url(), [*pairs, (PULL_PARAMETER, result.cursor)])
        meta = {
            "sync": {"cursor": result.cursor, "has_more": result.has_more},
            "filter": dict(params.filters_requested),
        }
        links = {"next": next_link}
    document = collection_document(
        schema_class, result.items, document_context(params), meta=meta, links=links
    )
    return jsonapi_response(document)


def relationship_response(schema_class: type[ResourceSchema], obj: Any, relationship: str):
    params = query_params(schema_class)
    document = relationship_document(schema_class, obj, relationship, document_context(params))
    return jsonapi_response(document)


def no_content():
    return jsonapi_response(None, 204)


def related_response(schema_class: type[ResourceSchema], obj: Any, relationship: str):
    """`GET /things/{id}/<relationship>`: the related resource (null when empty), or for a
    to-many relationship all related resources."""
    field = schema_class.relationship_fields()[relationship]
    related_schema = schema_for(field.type_)
    params = query_params(related_schema)
    related = getattr(obj, field.attribute or relationship)
    context = document_context(params)
    if field.many:
        document = collection_document(related_schema, related, context)
    elif related is None:
        document = top_level(context.self_link)
        document["data"] = None
    else:
        return resource_response(related_schema, related, params)
    return jsonapi_response(document)


def resource_object(schema_class: type[ResourceSchema], obj: Any) -> dict:
    """One resource object as it would appear in `data` (for `meta.current` of a stale write)."""
    context = document_context(QueryParams())
    return dump_resources(schema_class, [obj], context)[0]
