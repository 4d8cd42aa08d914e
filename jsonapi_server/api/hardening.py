"""What every response carries for safety (no sniffing, referrer or framing; no caching of
secrets), the proxies and Host names the app trusts, and CORS work only for requests asking it."""

from functools import wraps

from flask import Flask, current_app
from werkzeug.middleware.proxy_fix import ProxyFix

from jsonapi_server.jsonapi.current import current_request, request_globals
from jsonapi_server.jsonapi.errors import JsonApiError
from jsonapi_server.jsonapi.urls import request_host_trusted

from .library_internals import cors_after_request_position

# RFC 6749 §5.1: what answers carrying tokens send, so that no cache keeps them.
NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))
_NO_STORE_FLAG = "answer_holds_secrets"
# An API answer is never to be framed; a page with a CSP of its own (the docs) keeps it.
FRAMING = (("Content-Security-Policy", "frame-ancestors 'none'"), ("X-Frame-Options", "DENY"))


def no_store(view):
    """Decorator: no cache may keep the view's answer (it or its request holds a secret)."""

    @wraps(view)
    def marked(*args, **kwargs):
        setattr(request_globals(), _NO_STORE_FLAG, True)
        return view(*args, **kwargs)

    return marked


def any_host(view):
    """Decorator: the view writes no URL and answers any Host (a probe's may be an IP)."""
    view.answers_any_host = True
    return view


def refuse_untrusted_host() -> None:
    """A Host that neither TRUSTED_HOSTS nor PUBLIC_BASE_URL names is refused before the
    protocol or a view may answer (only flask-limiter's count runs earlier, and its 429 names
    no such host either: urls.current_host_url); the refusal does not write it back."""
    if request_host_trusted():
        return
    view = current_app.view_functions.get(current_request().endpoint or "")
    if getattr(view, "answers_any_host", False):
        return
    raise JsonApiError(
        400,
        "untrusted_host",
        "This server does not answer for the host this request names (Host, or "
        "X-Forwarded-Host from a trusted proxy).",
        header="Host",
    )


def add_security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Invite links carry their code: never hand it to another site as a referrer.
    headers.setdefault("Referrer-Policy", "no-referrer")
    if "Content-Security-Policy" not in headers:
        for name, value in FRAMING:
            headers[name] = value
    if current_request().headers.get("Authorization") or request_globals().get(_NO_STORE_FLAG):
        for name, value in NO_STORE:
            headers[name] = value
    return response


def cors_only_for_origins(app: Flask) -> None:
    """Run flask-cors's after-request function only for requests that carry `Origin` (as every
    browser's cross-origin one does): with always_send off it adds nothing to the others, not
    even `Vary: Origin`, yet works its options and headers out for each one."""
    position = cors_after_request_position(app)
    functions = app.after_request_funcs[None]
    add_cors_headers = functions[position]

    @wraps(add_cors_headers)
    def for_requests_with_origin(response):
        if "HTTP_ORIGIN" not in current_request().environ:
            return response
        return add_cors_headers(response)

    functions[position] = for_requests_with_origin


def init_app(app: Flask) -> None:
    app.before_request(refuse_untrusted_host)
    app.after_request(add_security_headers)
    trusted = {
        "x_for": app.config["PROXY_FIX_X_FOR"],
        "x_proto": app.config["PROXY_FIX_X_PROTO"],
        "x_host": app.config["PROXY_FIX_X_HOST"],
    }
    if any(trusted.values()):
        # links and Location then use the scheme and host the client used (unless
        # PUBLIC_BASE_URL names them), and TRUSTED_HOSTS checks the forwarded host
        # (Flask documents replacing the method as the way to add WSGI middleware.)
        app.wsgi_app = ProxyFix(app.wsgi_app, **trusted)  # type: ignore[method-assign]
