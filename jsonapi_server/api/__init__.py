"""Blueprints: thin views that parse the request, call one service and dump the result."""

import importlib
import pkgutil

from flask import Flask

from jsonapi_server.db import serve_reads_only
from jsonapi_server.jsonapi.current import READ_METHODS, current_request
from jsonapi_server.jsonapi.errors import JsonApiError
from jsonapi_server.jsonapi.protocol import handle_jsonapi_error
from jsonapi_server.jsonapi.responses import resource_object
from jsonapi_server.services.errors import DomainError

from .resources import DECLARED


def handle_domain_error(error: DomainError):
    """Domain refusals become error documents through the protocol's one error path; a stale
    write carries the resource as it is now in `meta.current`."""
    meta = dict(error.meta or {})
    current = getattr(error, "current", None)
    if current is not None:
        meta["current"] = resource_object(DECLARED[type(current).__model__].schema, current)
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return handle_jsonapi_error(
        JsonApiError(
            error.status,
            error.code,
            error.detail,
            pointer=error.pointer,
            parameter=error.parameter,
            # A precondition that failed is If-Match's: the one precondition writes honour.
            header="If-Match" if error.status == 412 else None,
            meta=meta,
            headers=headers,
        )
    )


def _reads_only_when_the_method_only_reads() -> None:
    if current_request().method in READ_METHODS:
        serve_reads_only()


def register_blueprints(app: Flask) -> None:
    # Importing every module of this package registers its views on the shared API blueprint:
    # a new resource's view module needs no entry anywhere else.
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    from . import docs, entry, health, rate_limits, resources
    from .auth import init_auth
    from .blueprint import api

    resources.register_all(api)

    app.before_request(_reads_only_when_the_method_only_reads)
    init_auth()
    app.register_error_handler(DomainError, handle_domain_error)
    rate_limits.init_app(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(docs.blueprint)
    app.register_blueprint(entry.root)
    app.register_blueprint(api)
