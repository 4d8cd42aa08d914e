"""What the resource schemas share beyond the protocol's base: the validators of names, web
addresses and optional email addresses."""

import re

import marshmallow as ma

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def validate_single_line(value: str) -> None:
    """A name is one line without control characters: an organization's name is put in the
    Subject of its invite mails, where a line break would refuse the mail (or forge a header)."""
    if _CONTROL.search(value):
        raise ma.ValidationError("One line of text, without line breaks or control characters.")


def single_line(*, max_length: int, min_length: int | None = None) -> list:
    """The validators of a name: its length, and one line."""
    return [ma.validate.Length(min=min_length, max=max_length), validate_single_line]


def validate_web_url(value: str) -> None:
    """An http(s) URL of at most 2048 characters, or the empty string (which clears it)."""
    if value == "":
        return
    if len(value) > 2048:
        raise ma.ValidationError("Longer than maximum length 2048.")
    ma.validate.URL(schemes={"http", "https"}, require_tld=False)(value)


def validate_optional_email(value: str) -> None:
    """An email address of at most 254 characters, or the empty string (which clears it)."""
    if value == "":
        return
    if len(value) > 254:
        raise ma.ValidationError("Longer than maximum length 254.")
    ma.validate.Email()(value)
