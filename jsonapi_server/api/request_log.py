"""One JSON line per request: time, request id, method, path, status, duration, user id.
Only the path is written (never the query string, headers or body), so no password, token or
invite code can reach the log through it."""

import logging
import time
from datetime import UTC, datetime
from typing import TextIO

import orjson
from flask import Flask

from jsonapi_server.jsonapi.current import current_request, request_globals
from jsonapi_server.times import format_timestamp, utc_now

from .library_internals import skip_caller_lookup

log = logging.getLogger("jsonapi_server.requests")


def record_time(record: logging.LogRecord) -> str:
    """When the record was made, as the request line writes its time."""
    return format_timestamp(datetime.fromtimestamp(record.created, UTC))


class JsonLineFormatter(logging.Formatter):
    """Log records as JSON objects, one per line (structured fields come in `extra`)."""

    def format(self, record: logging.LogRecord) -> str:
        line = getattr(record, "fields", None)
        if line is None:
            line = {
                "time": record_time(record),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            }
            if record.exc_info:
                line["exception"] = self.formatException(record.exc_info)
        # orjson: json.dumps was a large part of the line's cost
        return orjson.dumps(line, default=str).decode()


def start_timer() -> None:
    request_globals().started = time.perf_counter()


def log_request(response):
    globals_, request = request_globals(), current_request()
    started = globals_.get("started")
    user_id = globals_.get("caller_id")
    fields = {
        "time": format_timestamp(utc_now()),
        "request_id": globals_.get("request_id"),
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
        "user_id": None if user_id is None else str(user_id),
    }
    log.info("request", extra={"fields": fields})
    return response


def configure_logging(stream: TextIO | None = None) -> None:
    """JSON lines on stderr (or `stream`), unless the host (a test runner) has set up logging
    already."""
    root = logging.getLogger()
    if root.handlers:
        return
    # No line we write names the caller's file and line, so logging need not look them up
    # (sys._getframe, a large part of the request line's cost): the switch the logging
    # HOWTO's "Optimization" section gives for this.
    skip_caller_lookup()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLineFormatter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    configure_logging()
    app.before_request(start_timer)
    app.after_request(log_request)
