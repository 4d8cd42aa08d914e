"""gunicorn's defaults (`-c python:tests.gunicorn_without_settings`): gunicorn as it runs when
started without the project's gunicorn.conf.py, but for its control socket, one per user by
default, which other servers on this machine may be using."""

control_socket_disable = True
