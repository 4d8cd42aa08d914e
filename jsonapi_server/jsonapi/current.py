"""The current request and its `g` as the objects themselves, for code that runs on every
request: each read through Flask's proxies goes through werkzeug's LocalProxy, and a request's
hooks, authentication and document make dozens; taken once, they cost one lookup."""

from typing import Any

from flask import Request, g, request

# The methods that only read: their requests run on an autocommit connection of their own.
READ_METHODS = frozenset({"GET", "HEAD"})


# werkzeug documents LocalProxy._get_current_object as the way to the object; Flask types its
# proxies as the objects they stand for, so a type checker does not know the method.
def current_request() -> Request:
    return request._get_current_object()  # type: ignore[attr-defined]


def request_globals() -> Any:
    return g._get_current_object()
