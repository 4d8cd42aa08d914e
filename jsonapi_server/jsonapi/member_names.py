"""Member names as query parameters write them: the form a legal name takes, and the
dasherized spelling read as the snake_case one documents use."""

import re

# JSON:API member names: letters, digits or U+0080 and above at both ends; `-`, `_` and space
# inside. A parameter whose name breaks this is a 400 (JSON:API 1.1, query parameters).
_NAME_END = r"[a-zA-Z0-9\u0080-\U0010ffff]"
MEMBER_NAME = re.compile(rf"^{_NAME_END}(?:[a-zA-Z0-9\u0080-\U0010ffff_ -]*{_NAME_END})?$")


def member_name(text: str) -> str:
    """Query parameters may name members snake_case or dasherized; documents use snake_case."""
    return text.strip().replace("-", "_")
