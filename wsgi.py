"""The WSGI entry point for gunicorn in the project root: `gunicorn wsgi:app`."""

from jsonapi_server.wsgi import app

__all__ = ["app"]
