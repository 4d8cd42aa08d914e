"""The browsable docs at /api/v2/docs: Swagger UI, served from the swagger-ui-bundle-v2
package's own files (nothing from a CDN), reading /api/v2/openapi.json. HTML, not JSON:API."""

from flask import Blueprint, Response, abort, render_template, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path

from jsonapi_server.jsonapi import API_PREFIX
from jsonapi_server.jsonapi.protocol import outside_jsonapi

blueprint = Blueprint("docs", __name__, url_prefix=f"{API_PREFIX}/docs")

# What the page loads of the package (its index.html and initializer point at the petstore).
ASSETS = frozenset(
    {
        "swagger-ui.css",
        "index.css",
        "swagger-ui-bundle.js",
        "favicon-32x32.png",
        "favicon-16x16.png",
    }
)
# Only this origin; Swagger UI's icons are data: images in its stylesheet.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


@blueprint.after_request
def content_security_policy(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@blueprint.get("")
@outside_jsonapi
def page():
    return Response(render_template("docs/index.html"), mimetype="text/html")


@blueprint.get("/swagger-initializer.js")
@outside_jsonapi
def initializer():
    script = render_template(
        "docs/swagger-initializer.js", openapi_url=url_for("health.openapi_document")
    )
    return Response(script, mimetype="text/javascript")


@blueprint.get("/<name>")
@outside_jsonapi
def asset(name):
    if name not in ASSETS:
        abort(404)
    return send_from_directory(swagger_ui_path, name)
