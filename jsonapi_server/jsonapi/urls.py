"""URLs written into documents: always URIs. The path is percent-encoded as the client could
have sent it (werkzeug hands it over decoded), and so is the query (`page%5Bsize%5D`): bare
brackets are not valid in a URI query even though clients may send them."""

from urllib.parse import quote, urlencode

from flask import g, request
from werkzeug.urls import iri_to_uri

_PATH_SAFE = "/:@!$&'()*+,;=-._~"  # RFC 3986 pchar and "/"; everything else, "%" too, encoded


def with_query(base: str, pairs: list[tuple[str, str]]) -> str:
    return f"{base}?{urlencode(pairs, safe=',')}" if pairs else base


def current_base_url() -> str:
    """Scheme, host and path of the request (as ProxyFix trusts them), without the query."""
    return current_host_url() + quote(request.script_root + request.path, safe=_PATH_SAFE)


def current_host_url() -> str:
    """Scheme and host (computed once a request: a document writes it into every link)."""
    if "jsonapi_host_url" not in g:
        g.jsonapi_host_url = iri_to_uri(request.host_url).rstrip("/")
    return g.jsonapi_host_url


def current_url() -> str:
    """The request URL as the client addressed it."""
    return with_query(current_base_url(), list(request.args.items(multi=True)))
