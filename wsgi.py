"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

import gc

from sqlalchemy.orm import configure_mappers

from jsonapi_server import create_app

app = create_app()

# What the application has built lives as long as the process. The collector's full passes
# walk every live object (about 110,000 here, 60-80 ms a pass on the bench machine), and one
# fell on a request every few hundred requests; a frozen object is never walked again.
configure_mappers()
gc.freeze()
