"""Alembic's migrations, shipped in the wheel as jsonapi_server.migrations (setup.cfg)."""
