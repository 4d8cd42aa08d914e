"""gunicorn settings for jsonapi_server: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Every value can be set from the environment. The access log is the application's own JSON
line per request (jsonapi_server.request_log: it knows the request id and the user), so
gunicorn's access log stays off unless GUNICORN_ACCESS_LOG=1 asks for its JSON line too."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "1000"))
# Only the local nginx may tell gunicorn about the original client (the app's ProxyFix decides
# what it trusts for links and rate limits).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG") == "1" else None
access_log_format = (
    '{"time": "%(t)s", "request_id": "%({x-request-id}o)s", "method": "%(m)s", '
    '"path": "%(U)s", "status": %(s)s, "duration_ms": %(M)s, "user_id": null}'
)
