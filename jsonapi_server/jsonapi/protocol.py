"""Installs the protocol on an application: negotiation before every API request, `Vary`
after it, and one error handler that answers every failure with a JSON:API error document."""

import logging

from flask import Flask, current_app, g, request
from marshmallow import ValidationError
from marshmallow_jsonapi.exceptions import IncorrectTypeError
from werkzeug.exceptions import HTTPException

from . import API_PREFIX
from .current import current_request
from .document import error_document
from .errors import JsonApiError, error_object
from .media import check_accept, check_content_type
from .responses import ApiResponse, jsonapi_response
from .schema import validation_error_object
from .urls import current_url

log = logging.getLogger(__name__)

BODY_METHODS = {"POST", "PATCH", "PUT", "DELETE"}

HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable_content",
    429: "too_many_requests",
}

HTTP_ERROR_DETAILS = {
    404: "No resource lives at this URL.",
    405: "This URL does not accept that method.",
    413: "The request body is larger than this server accepts.",
}


def outside_jsonapi(view):
    """Mark a view whose answers are not JSON:API (the HTML docs page and its assets): no
    negotiation applies to it, whatever its URL."""
    view.outside_jsonapi = True
    return view


def is_api_request() -> bool:
    path = current_request().path
    # "/" answers the entry document, as /api/v2 does.
    return path == "/" or path == API_PREFIX or path.startswith(API_PREFIX + "/")


def negotiate() -> None:
    """415 for a body in a foreign media type, 406 for an Accept we cannot satisfy."""
    if not is_api_request():
        return
    request = current_request()
    endpoint = request.endpoint  # None when no route matched
    if endpoint and getattr(current_app.view_functions.get(endpoint), "outside_jsonapi", False):
        return
    check_accept(request.headers.get("Accept"))
    has_body = bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", ""
    )
    if request.method in BODY_METHODS and has_body:
        check_content_type(request.headers.get("Content-Type"))


def add_vary(response):
    # Read and written as text: werkzeug's `response.vary` parses the header into a set and
    # writes it back, on every response.
    vary = response.headers.get("Vary")
    if vary is None:
        response.headers["Vary"] = "Accept"
    elif "accept" not in (value.strip().lower() for value in vary.split(",")):
        response.headers["Vary"] = f"{vary}, Accept"
    return response


def error_response(status: int, errors: list[dict], headers: dict | None = None, meta=None):
    self_link = current_url() if request else None
    return jsonapi_response(error_document(errors, self_link, meta), status, headers)


def handle_jsonapi_error(error: JsonApiError):
    return error_response(error.status, error.errors, error.headers)


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    if status >= 500:
        return handle_unexpected(error)
    headers = {}
    valid_methods = getattr(error, "valid_methods", None)  # a MethodNotAllowed's
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(sorted(valid_methods))
    detail = HTTP_ERROR_DETAILS.get(status) or error.description or ""
    code = HTTP_ERROR_CODES.get(status, "error")
    return error_response(status, [error_object(status, code, detail)], headers)


def handle_validation_error(error: ValidationError):
    messages = error.messages
    items = messages.get("errors", []) if isinstance(messages, dict) else messages
    if not items:
        items = [str(messages)]
    return error_response(422, [validation_error_object(item) for item in items])


def handle_incorrect_type(error: IncorrectTypeError):
    return error_response(
        409, [error_object(409, "type_mismatch", str(error), pointer="/data/type")]
    )


def handle_unexpected(error: Exception):
    request_id = g.get("request_id")
    log.exception("unhandled error (request %s)", request_id)
    detail = "Something went wrong on our side. Quote the request id if you report it."
    return error_response(
        500,
        [error_object(500, "internal_error", detail)],
        meta={"request_id": request_id},
    )


def init_app(app: Flask) -> None:
    app.response_class = ApiResponse
    app.before_request(negotiate)
    app.after_request(add_vary)
    app.register_error_handler(JsonApiError, handle_jsonapi_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(IncorrectTypeError, handle_incorrect_type)
    app.register_error_handler(Exception, handle_unexpected)
