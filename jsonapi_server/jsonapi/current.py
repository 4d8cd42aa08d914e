"""The current request and its `g` as the objects themselves, for code that runs on every
request: each read through Flask's proxies goes through werkzeug's LocalProxy, and a request's
hooks, authentication and document make dozens; taken once, they cost one lookup."""

from typing import Any

from flask import Request, g, request

# The methods that only read: their requests run on an autocommit connection of their own.
READ_METHODS = frozenset({"GET", "HEAD"})


def current_request() -> Request:
    return request._get_current_object()  # LocalProxy's documented way to the object


def request_globals() -> Any:
    return g._get_current_object()
