"""Plain-JSON endpoints beside the JSON:API: liveness, readiness, the OpenAPI document."""

import logging
from typing import Any

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from jsonapi_server.api.hardening import any_host
from jsonapi_server.extensions import db
from jsonapi_server.jsonapi.openapi import build_openapi
from jsonapi_server.jsonapi.operations import describe

log = logging.getLogger(__name__)
blueprint = Blueprint("health", __name__)

_STATUS: dict[str, Any] = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string"}},
}
_READINESS = {
    **_STATUS,
    "required": ["status", "database"],
    "properties": {**_STATUS["properties"], "database": {"type": "string"}},
}


@blueprint.get("/healthz")
@any_host  # probes call by address; neither answer writes a URL
@describe("show", None, public=True, answer=_STATUS, summary="The process is up")
def healthz():
    return jsonify(status="ok")


@blueprint.get("/api/v2/openapi.json")
@describe(
    "show",
    None,
    public=True,
    answer={"type": "object"},
    statuses=(400, 406),  # a Host not trusted; negotiated as every API URL is
    summary="This OpenAPI 3.1 document",
)
def openapi_document():
    if "openapi" not in current_app.extensions:
        current_app.extensions["openapi"] = build_openapi(current_app)
    return jsonify(current_app.extensions["openapi"])


@blueprint.get("/readyz")
@any_host
@describe(
    "show",
    None,
    public=True,
    answer=_READINESS,
    statuses=(503,),
    summary="The database answers (503 when it does not)",
)
def readyz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.warning("readiness check: the database does not answer", exc_info=True)
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
