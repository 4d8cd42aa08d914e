"""gunicorn settings, each from the environment: read by the project root's gunicorn.conf.py
(`gunicorn wsgi:app` there), or from a wheel with `-c python:jsonapi_server.gunicorn_conf`.
gunicorn's own lines are JSON, in the shape of the application's request lines."""

import logging
import multiprocessing
import os
from collections.abc import Mapping
from typing import Any

from gunicorn.glogging import Logger

from jsonapi_server.api.request_log import JsonLineFormatter, record_fields
from jsonapi_server.config import check_settings, load_settings

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "1000"))
# Long request lines (an include of many paths, a filter of many ids) reach the app: 8190 is
# gunicorn's most (0 lifts the bound) and what deploy/nginx.conf's 8k buffers hold, so nginx
# alone refuses longer ones, with JSON:API; headers get room for the X-Forwarded-For it extends.
limit_request_line = 8190
limit_request_field_size = 16384
# Only the local nginx may tell gunicorn about the original client (the app's ProxyFix decides
# what it trusts for links and rate limits).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket is one per user by default, which two servers on one host would
# fight over.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]

errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The access log is the application's own line per request, which knows the request id and
# the user: gunicorn's is off unless asked for too.
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG") == "1" else None


class GunicornJsonFormatter(JsonLineFormatter):
    """The application's JSON lines, and gunicorn's access records as the application's
    request line (the path only: never the query, which may carry an invite code)."""

    def format(self, record: logging.LogRecord) -> str:
        atoms: Any = record.args  # an access record's: values of several types, by atom
        if record.name == "gunicorn.access" and isinstance(atoms, Mapping):
            request_id = atoms["{x-request-id}o"]
            record.fields = {
                **record_fields(record),
                "message": "request",
                "request_id": None if request_id == "-" else request_id,
                "method": atoms["m"],
                "path": atoms["U"].replace('\\"', '"'),
                "status": int(atoms["s"]),
                "duration_ms": round(atoms["D"] / 1000, 2),
            }
        return super().format(record)


class JsonLogger(Logger):
    """gunicorn's logger, its access log kept to `accesslog`: with `logconfig_dict` set,
    gunicorn would otherwise gather every request's log fields even with nobody to write them."""

    def _compute_access_log_enabled(self):
        return self.cfg.accesslog is not None


logger_class = JsonLogger
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": GunicornJsonFormatter}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    # The application's records reach the root logger's handler too (its logging is left as
    # the host set it up), so every line on stderr is one JSON object.
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
    },
}


def on_starting(_server) -> None:
    """Refuse unsafe settings in the master, before any worker is forked (each would print them)."""
    check_settings(load_settings())
