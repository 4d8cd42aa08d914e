"""The entry document: a JSON:API document of links, from which a client finds the rest of the
API. Its OpenAPI description is `links.describedby`, the member JSON:API 1.1 names for it; the
other links are @-members, the only other names the 1.1 schema admits in top-level links."""

from collections.abc import Mapping

from .current import current_request
from .document import top_level
from .query import check_no_query
from .responses import jsonapi_response
from .urls import current_url, endpoint_url

_LINK = {"type": "string", "format": "uri"}

# The answer's schema in the OpenAPI document (it holds no resource to describe).
ENTRY_DOCUMENT = {
    "type": "object",
    "required": ["jsonapi", "links", "meta"],
    "properties": {
        "jsonapi": {"$ref": "#/components/schemas/jsonapi"},
        "links": {
            "type": "object",
            "required": ["self", "describedby"],
            "properties": {"self": _LINK, "describedby": _LINK},
            "patternProperties": {"^@": _LINK},
        },
        "meta": {
            "type": "object",
            "properties": {"description": {"type": "string"}, "version": {"type": "string"}},
        },
    },
}


def entry_response(described_by: str, links: Mapping[str, str], meta: dict):
    """The entry document: `described_by` and each of `links` (name -> endpoint) as a URI on the
    host the client addressed, `links` under @-names; no query parameter applies."""
    check_no_query(current_request().args)
    members = {"describedby": endpoint_url(described_by)}
    members.update((f"@{name}", endpoint_url(endpoint)) for name, endpoint in links.items())
    return jsonapi_response(top_level(current_url(), links=members, meta=meta))
