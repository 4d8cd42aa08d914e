"""What every response carries for safety, the proxy headers the app trusts, and CORS work
only for the requests that ask for it."""

from functools import wraps

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .jsonapi.current import current_request


def add_security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # Invite links carry their code: never hand it to another site as a referrer.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if current_request().headers.get("Authorization"):
        response.headers["Cache-Control"] = "no-store"
    return response


def cors_only_for_origins(app: Flask) -> None:
    """flask-cors (installed just before, with always_send off) answers a request that carries
    no `Origin` with no CORS header at all, not even `Vary: Origin` (which it adds only beside
    an allowed origin), yet works its options and headers out for each one (~25 us). Its
    after-request function now runs only for requests that carry `Origin`, as every browser's
    cross-origin request does."""
    functions = app.after_request_funcs.get(None, [])
    [position] = [i for i, f in enumerate(functions) if f.__module__ == "flask_cors.extension"]
    add_cors_headers = functions[position]

    @wraps(add_cors_headers)
    def for_requests_with_origin(response):
        if "HTTP_ORIGIN" not in current_request().environ:
            return response
        return add_cors_headers(response)

    functions[position] = for_requests_with_origin


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
    trusted = {
        "x_for": app.config["PROXY_FIX_X_FOR"],
        "x_proto": app.config["PROXY_FIX_X_PROTO"],
        "x_host": app.config["PROXY_FIX_X_HOST"],
    }
    if any(trusted.values()):
        # links and Location then use the scheme and host the client used
        app.wsgi_app = ProxyFix(app.wsgi_app, **trusted)
