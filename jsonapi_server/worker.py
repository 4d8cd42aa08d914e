"""What a long-lived server process does once the application is built (wsgi.py)."""

import gc

from sqlalchemy.orm import configure_mappers

# Not Python's 700: a page's objects all live until its response is written, so at 700 each
# request paid several collections of the youngest generation over objects still in use.
YOUNG_GENERATION_THRESHOLD = 5000


def settle() -> None:
    """Freeze what the application has built (it lives as long as the process, and every full
    collection, which some request waits for, walks it) and collect the young generation less
    often."""
    configure_mappers()
    gc.freeze()
    _young, *older = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *older)
