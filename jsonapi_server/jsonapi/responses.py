"""Responses: the JSON:API media type on every body, `Location` on creates, 204 with no body,
and the query-parameter and document context a view needs to build them."""

import json
from collections.abc import Sequence
from typing import Any

from flask import Response, request

from schemas.base import ResourceSchema, SchemaShape

from . import JSONAPI_MEDIA_TYPE
from .document import (
    DocumentContext,
    collection_document,
    relationship_document,
    resource_document,
)
from .pagination import collection_meta, pagination_links
from .query import CollectionSpec, QueryParams, parse_query
from .urls import current_url

_SHAPE = SchemaShape()


def encode(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def jsonapi_response(document: dict | None, status: int = 200, headers: dict | None = None):
    if document is None:
        return Response(status=status, headers=headers)
    return Response(encode(document), status=status, headers=headers, mimetype=JSONAPI_MEDIA_TYPE)


def query_params(
    schema_class: type[ResourceSchema], collection: CollectionSpec | None = None
) -> QueryParams:
    """Parse the request's query string for an endpoint serving `schema_class`."""
    return parse_query(
        request.args, primary_type=schema_class.type_name(), shape=_SHAPE, collection=collection
    )


def document_context(params: QueryParams) -> DocumentContext:
    return DocumentContext(
        base_url=request.host_url.rstrip("/"), self_link=current_url(), params=params
    )


def resource_response(
    schema_class: type[ResourceSchema],
    obj: Any,
    params: QueryParams,
    *,
    status: int = 200,
    meta: dict | None = None,
    headers: dict | None = None,
    location: bool = False,
):
    """A single resource; with `location`, a 201 whose Location equals the resource's links.self."""
    context = document_context(params)
    document = resource_document(schema_class, obj, context, meta=meta)
    headers = dict(headers or {})
    if location:
        headers["Location"] = document["data"]["links"]["self"]
    return jsonapi_response(document, status, headers)


def collection_response(
    schema_class: type[ResourceSchema],
    items: Sequence[Any],
    total_count: int,
    params: QueryParams,
):
    """A page of a collection with the seed's `meta` and first/last/prev/next links."""
    context = document_context(params)
    links = pagination_links(request.base_url, request.args, params.page, total_count)
    document = collection_document(
        schema_class, items, context, meta=collection_meta(params, total_count), links=links
    )
    return jsonapi_response(document)


def relationship_response(schema_class: type[ResourceSchema], obj: Any, relationship: str):
    params = query_params(schema_class)
    document = relationship_document(schema_class, obj, relationship, document_context(params))
    return jsonapi_response(document)


def no_content():
    return jsonapi_response(None, 204)
