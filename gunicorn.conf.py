"""gunicorn's settings when it is started in the project root (`gunicorn wsgi:app`, `make run`):
they live in the package, so that an installed wheel has them too."""

from jsonapi_server.gunicorn_conf import *  # noqa: F403
