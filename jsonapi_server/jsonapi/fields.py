"""The marshmallow fields the protocol adds: timestamps in the API's one wire form, JSON-only
booleans, and relationships whose linkage never costs a query."""

from typing import Any

import marshmallow as ma
from marshmallow_jsonapi import fields as _library_fields

from jsonapi_server.times import format_timestamp, parse_timestamp

from . import API_PREFIX


class Attributes(dict):
    """A format_map() source that reads attributes: '{organization_id}' -> obj.organization_id."""

    def __init__(self, obj: Any):
        super().__init__()
        self.obj = obj

    def __missing__(self, key: str) -> Any:
        return getattr(self.obj, key)


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
    """A relationship whose linkage never costs a query: to-one linkage is read from the
    foreign-key column (`id_attribute`), to-many linkage written only when the client included
    it (the service then loaded it eagerly). Its links are `self` and `related` below the
    resource's path, or, for a to-one with no endpoints of its own, the one `related` link
    `related_path` templates from the object's attributes (`"/users/{user_id}"`), with data."""

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

    def serialize(self, attr, obj, accessor=None):
        relationship: dict[str, Any] = {}
        schema = self.parent
        resource_path = schema.current_link
        if self.with_links and resource_path:
            relationship["links"] = {
                "self": f"{resource_path}/relationships/{self.data_key or self.name}",
                "related": f"{resource_path}/{self.data_key or self.name}",
            }
        if not self.many:
            related_id = getattr(obj, self.id_attribute or f"{self.model_attribute}_id")
            if related_id is not None and self.related_path:
                related = self.related_path.format_map(Attributes(obj))
                relationship["links"] = {"related": schema.base_url + related}
            relationship["data"] = (
                None if related_id is None else {"type": self.type_, "id": str(related_id)}
            )
        elif self.name in schema.included_relationships:
            items = getattr(obj, self.model_attribute) or []
            relationship["data"] = [{"type": self.type_, "id": str(item.id)} for item in items]
        return relationship
