"""What a long-lived server process does once the application is built (wsgi.py)."""

import gc

from sqlalchemy.orm import configure_mappers

# Collections of the youngest generation: one per this many new container objects, not
# Python's 700. A page's objects all live until its response is written, so at Python's
# threshold each request paid several passes over objects that were all still in use.
YOUNG_GENERATION_THRESHOLD = 5000


def settle() -> None:
    """Freeze what the application has built and collect the young generation less often.

    What is built lives as long as the process. The collector's full passes walk every live
    object, and each one falls on some request, whose answer waits for it; a frozen object
    is never walked again."""
    configure_mappers()
    gc.freeze()
    _young, *older = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *older)
