"""URLs written into documents: on PUBLIC_BASE_URL, or on the request's host when it is trusted
(never on one that is not). Paths and queries are percent-encoded as URIs (`page%5Bsize%5D`):
bare brackets are not valid in a URI query, though clients may send them."""

from functools import lru_cache
from urllib.parse import quote, urlencode

from flask import current_app, url_for
from werkzeug.sansio.utils import get_current_url, host_is_trusted
from werkzeug.urls import iri_to_uri

from .current import current_request, request_globals

_PATH_SAFE = "/:@!$&'()*+,;=-._~"  # RFC 3986 pchar and "/"; everything else, "%" too, encoded


def with_query(base: str, pairs: list[tuple[str, str]]) -> str:
    return f"{base}?{_encoded_query(tuple(pairs))}" if pairs else base


@lru_cache(maxsize=1024)  # a listing writes five links from one query; clients repeat theirs
def _encoded_query(pairs: tuple[tuple[str, str], ...]) -> str:
    return urlencode(pairs, safe=",")


def current_base_url() -> str:
    """The request's URL on current_host_url() without the query, once a request."""
    globals_ = request_globals()
    url = globals_.get("jsonapi_base_url")
    if url is None:
        request = current_request()
        path = quote(request.script_root + request.path, safe=_PATH_SAFE)
        url = globals_.jsonapi_base_url = current_host_url() + path
    return url


def current_host_url() -> str:
    """Scheme and host of every link, once a request: PUBLIC_BASE_URL; else the request's (as
    ProxyFix trusts them) when its Host is trusted; else none (relative links), so that no
    answer names a host the deployment does not."""
    globals_ = request_globals()
    url = globals_.get("jsonapi_host_url")
    if url is None:
        url = current_app.config["PUBLIC_BASE_URL"]
        if url is None:
            request = current_request()
            url = _host_uri(request.scheme, request.host) if request_host_trusted() else ""
        globals_.jsonapi_host_url = url
    return url


def request_host_trusted() -> bool:
    """The request's Host (X-Forwarded-Host, from a trusted proxy) is one TRUSTED_HOSTS or
    PUBLIC_BASE_URL names (its port aside), or neither is set."""
    trusted = current_app.config["ALLOWED_HOSTS"]
    return not trusted or host_is_trusted(current_request().host, trusted)


@lru_cache(maxsize=64)  # the hosts a deployment answers as (ProxyFix's or the Host header)
def _host_uri(scheme: str, host: str) -> str:
    """What `iri_to_uri(request.host_url)` gives, worked out once per scheme and host
    (werkzeug builds host_url anew for every request, through its IRI conversion)."""
    return iri_to_uri(get_current_url(scheme, host)).rstrip("/")


def current_url() -> str:
    """The request URL as the client addressed it (its host: current_host_url())."""
    return with_query(current_base_url(), list(current_request().args.items(multi=True)))


def endpoint_url(endpoint: str) -> str:
    """The URI of a route, named by its endpoint, on current_host_url() (url_for
    percent-encodes the path and prefixes the script root, as the request's own URL has)."""
    return current_host_url() + url_for(endpoint)
