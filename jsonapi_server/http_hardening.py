"""What every response carries for safety, and the proxy headers the app trusts."""

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
