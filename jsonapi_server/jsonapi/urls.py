"""URLs written into documents: query strings percent-encoded (`page%5Bsize%5D`), since bare
brackets are not valid in a URI query even though clients may send them."""

from urllib.parse import urlencode

from flask import request


def with_query(base: str, pairs: list[tuple[str, str]]) -> str:
    return f"{base}?{urlencode(pairs, safe=',')}" if pairs else base


def current_url() -> str:
    """The request URL as the client addressed it (scheme and host as ProxyFix trusts them)."""
    return with_query(request.base_url, list(request.args.items(multi=True)))
