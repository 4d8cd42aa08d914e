"""Data access, kept apart from the services so that how rows are read never shapes a rule;
services read through the few names below (a page or pull, one row with the caller's role,
one row after a write), and the web layer says which requests only read."""

from .connections import serve_reads_only
from .listing import (
    Filter,
    Listing,
    Scope,
    fetch_again,
    fetch_one,
    parse_boolean,
    parse_choice,
    parse_text,
    read_one,
    read_rows,
)
from .pulls import parse_since, reads_clock_with_rows
from .record_classes import record_of

__all__ = [
    "Filter",
    "Listing",
    "Scope",
    "fetch_again",
    "fetch_one",
    "parse_boolean",
    "parse_choice",
    "parse_since",
    "parse_text",
    "read_one",
    "read_rows",
    "reads_clock_with_rows",
    "record_of",
    "serve_reads_only",
]
