"""The WSGI entry point: what it builds is frozen out of the collector's full passes, and the
young generation is collected less often (jsonapi_server/worker.py)."""

import os
import subprocess
import sys
from pathlib import Path

from .conftest import TEST_SETTINGS

ROOT = Path(__file__).resolve().parents[1]


def test_entry_point_freezes_the_application_out_of_full_collections(database_url):
    # gc.get_objects() lists what a full pass walks; frozen objects are not among them.
    probe = (
        "import gc, wsgi; "
        "print(gc.get_freeze_count(), len(gc.get_objects()), gc.get_threshold()[0])"
    )
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": TEST_SETTINGS["JWT_SECRET_KEY"],
    }
    output = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    frozen, walked, young = map(int, output)
    assert frozen > 50_000  # the app, Flask, SQLAlchemy and the configured mappers
    assert walked < frozen / 20
    # a request's own objects are collected in passes of 5,000 new ones, not Python's 700
    assert young == 5000
