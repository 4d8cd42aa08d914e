"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from jsonapi_server import create_app
from jsonapi_server.worker import settle

app = create_app()
settle()
