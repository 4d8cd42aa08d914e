"""The framework ceiling: bare Flask answering a constant body of a given size, served under
the same gunicorn settings as the application, so every ratio is taken against it."""

import os

from flask import Flask, Response

BODY = b"x" * int(os.environ.get("BENCH_BODY_BYTES", "20000"))

app = Flask(__name__)


@app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
@app.route("/<path:path>", methods=["GET", "POST"])
def constant(path):
    return Response(BODY, mimetype="application/vnd.api+json")
