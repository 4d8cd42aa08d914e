"""The WSGI entry point for gunicorn: `gunicorn jsonapi_server.wsgi:app` (the project root's
wsgi.py is this one, for `gunicorn wsgi:app` there)."""

from gunicorn.errors import AppImportError

from jsonapi_server import create_app
from jsonapi_server.config import UnsafeSettings
from jsonapi_server.worker import settle

try:
    app = create_app()
except UnsafeSettings as refused:
    # gunicorn prints this one's lines (no traceback) and stops, where a worker that exits
    # otherwise is forked again.
    raise AppImportError(str(refused)) from None
settle()
