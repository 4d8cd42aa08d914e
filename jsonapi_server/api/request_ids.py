"""Request ids: taken from `X-Request-ID` when it is sane, else made; echoed in the response."""

import re
import uuid

from flask import Flask

from jsonapi_server.jsonapi.current import current_request, request_globals

HEADER = "X-Request-ID"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def assign_request_id() -> None:
    given = current_request().headers.get(HEADER, "")
    request_globals().request_id = given if _SANE.match(given) else uuid.uuid4().hex


def echo_request_id(response):
    request_id = request_globals().get("request_id")
    if request_id is not None:
        response.headers[HEADER] = request_id
    return response


def init_app(app: Flask) -> None:
    # Registered before the protocol's hooks so even a refused request carries its id.
    app.before_request(assign_request_id)
    app.after_request(echo_request_id)
