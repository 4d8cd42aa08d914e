"""The marshmallow fields the protocol adds: timestamps in the API's one wire form, JSON-only
booleans, and relationships whose linkage never costs a query."""

from typing import Any

import marshmallow as ma
from marshmallow_jsonapi import fields as _library_fields

from jsonapi_server.times import format_timestamp, parse_timestamp

from . import API_PREFIX


class Timestamp(ma.fields.Field):
    """`2021-11-23T14:38:03.250Z` out; any RFC 3339 form (or `... UTC`) in, kept to the ms."""

    # Typed as marshmallow types it (an instance attribute, which each class sets).
    default_error_messages: dict[str, str] = {  # noqa: RUF012
        "invalid": "Not a valid timestamp (RFC 3339, e.g. 2021-11-23T14:38:03.250Z)."
    }

    def _serialize(self, value, attr, obj, **kwargs):
        return format_timestamp(value)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_timestamp(value)
        except ValueError as error:
            raise self.make_error("invalid") from error


class Boolean(ma.fields.Boolean):
    """JSON `true` or `false` only: marshmallow's takes "yes", 1, "on" and "true" as true."""

    default_error_messages: dict[str, str] = {"invalid": "Not a boolean (true or false)."}  # noqa: RUF012

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Relationship(_library_fields.Relationship):
    """A relationship whose linkage never costs a query, as jsonapi.writer writes it from
    these options: to-one linkage is read from the foreign-key column (`id_attribute`),
    to-many linkage written only when the client included it (the service then loaded it
    eagerly). Its links are `self` and `related` below the resource's path, or, for a to-one
    with no endpoints of its own, the one `related` link `related_path` templates from the
    object's attributes (`"/users/{user_id}"`), with data."""

    def __init__(
        self,
        type_: str,
        *,
        many: bool = False,
        id_attribute: str | None = None,
        links: bool = True,
        related_path: str | None = None,
        **kwargs: Any,
    ):
        if related_path is not None and many:
            raise ValueError("related_path is for to-one relationships")
        kwargs.setdefault("dump_only", True)
        super().__init__(type_=type_, many=many, include_resource_linkage=not many, **kwargs)
        self.id_attribute = id_attribute
        self.related_path = API_PREFIX + related_path if related_path else None
        self.with_links = links and related_path is None

    @property
    def model_attribute(self) -> str:
        return self.attribute or self.name
