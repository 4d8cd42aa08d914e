"""jsonapi_server: a JSON:API 1.1 service for organizations, members, channels and invites."""

import os
from collections.abc import Mapping
from importlib import resources
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import extensions
from .config import check_settings, complete_settings, instance_path, load_settings
from .db import connections
from .extensions import cors, jwt, limiter, mail, migrate

# The checkout's top-level migrations/, which the wheel ships as jsonapi_server.migrations
# (setup.cfg maps one onto the other, the editable install too): found alike in both.
MIGRATIONS_DIRECTORY = str(resources.files(f"{__name__}.migrations"))


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: settings, extensions, protocol, blueprints, commands."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path())
    app.config.update(load_settings(overrides=config))
    check_settings(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    complete_settings(app.config, app.instance_path)

    connections.init_app(app)
    migrate.init_app(app, extensions.db, directory=MIGRATIONS_DIRECTORY, render_as_batch=True)
    jwt.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    cors.init_app(
        app,
        origins=[o.strip() for o in app.config["CORS_ORIGINS"].split(",") if o.strip()],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Match",
            "X-Request-ID",
        ],
        expose_headers=["Location", "ETag", "Retry-After", "X-Request-ID"],
        methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
        max_age=600,
        # A request without Origin did not ask for CORS (browsers send it with every
        # cross-origin request): it gets no CORS headers.
        always_send=False,
    )

    from . import cli
    from .api import hardening, register_blueprints, request_ids, request_log
    from .jsonapi import protocol

    hardening.cors_only_for_origins(app)
    request_ids.init_app(app)
    request_log.init_app(app)
    # Before the protocol: its negotiation may answer, and a Host not trusted is answered
    # with its refusal alone.
    hardening.init_app(app)
    protocol.init_app(app)
    register_blueprints(app)
    cli.init_app(app)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite: enforce foreign keys, and WAL so readers and a writer do not block each other."""
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
