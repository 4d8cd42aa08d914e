"""One JSON line per request: time, request id, method, path, status, duration, user id. Only the
path (never the query, headers or body), so no password, token or invite code reaches the log."""

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


def record_fields(record: logging.LogRecord) -> dict:
    """A record's time (as the request line writes its own), level and logger."""
    return {
        "time": format_timestamp(datetime.fromtimestamp(record.created, UTC)),
        "level": record.levelname.lower(),
        "logger": record.name,
    }


class JsonLineFormatter(logging.Formatter):
    """Log records as JSON objects, one per line (structured fields come in `extra`)."""

    def format(self, record: logging.LogRecord) -> str:
        line = getattr(record, "fields", None)
        if line is None:
            line = {**record_fields(record), "message": record.getMessage()}
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
    skip_caller_lookup()  # no line we write names the caller's file and line
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLineFormatter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    configure_logging()
    app.before_request(start_timer)
    app.after_request(log_request)
