"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from jsonapi_server import create_app

app = create_app()
