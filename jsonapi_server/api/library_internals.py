"""The insides of flask-cors and logging the web layer relies on, each behind one function here
and nothing else reading them; tests/test_library_internals.py checks each against the installed
version and says what changed when an upgrade breaks one."""

import logging
from collections.abc import Callable
from importlib.metadata import version

from flask import Flask

FLASK_CORS_MODULE = "flask_cors.extension"


def cors_after_request_position(app: Flask) -> int:
    """Where, among `app`'s after-request functions, is the one flask-cors's init_app added
    (which adds the CORS headers): named in no public API, it is found by its module."""
    functions: list[Callable] = app.after_request_funcs.get(None, [])
    positions = [i for i, f in enumerate(functions) if f.__module__ == FLASK_CORS_MODULE]
    if len(positions) != 1:
        raise RuntimeError(
            f"flask-cors {version('flask-cors')}: {len(positions)} after-request functions"
            f" from {FLASK_CORS_MODULE} where its init_app used to add one"
            " (jsonapi_server/api/library_internals.py looks for it)"
        )
    return positions[0]


def skip_caller_lookup() -> None:
    """Log records no longer name the file, line and function that logged them, which logging
    then need not look up (sys._getframe, a large part of a line's cost): the switch, a private
    name, that the logging HOWTO's "Optimization" section gives."""
    logging._srcfile = None
