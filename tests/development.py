"""The application as development runs it: SQLite in a folder of the test's, migrated, with one
signed-in owner."""

from dataclasses import dataclass

import flask_migrate
from flask import Flask
from flask.testing import FlaskClient

from jsonapi_server import create_app
from jsonapi_server.extensions import db
from jsonapi_server.models import User
from jsonapi_server.services import tokens


@dataclass
class DevelopmentApp:
    app: Flask
    client: FlaskClient
    owner_id: str
    headers: dict  # the owner's bearer token and the JSON:API media type

    def dispose(self) -> None:
        with self.app.app_context():
            db.engine.dispose()


def sqlite_app_with_owner(folder) -> DevelopmentApp:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'dev.sqlite3'}",
            "JWT_SECRET_KEY": "k" * 40,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
        owner = User(email="owner@example.com", password_hash="x", first_name="O")
        db.session.add(owner)
        db.session.commit()
        owner_id = str(owner.id)
        token = tokens.open_session(owner).access_token
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/vnd.api+json"}
    return DevelopmentApp(app, app.test_client(), owner_id, headers)
