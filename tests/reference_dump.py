"""marshmallow-jsonapi's own `Schema.dump`, driven by our rules for links and linkage: the
reference tests/test_writer.py holds jsonapi.writer to, kept here as the package never dumps."""

import copy
from collections.abc import Iterable
from functools import cache
from typing import Any

from marshmallow_jsonapi import fields as library_fields

from jsonapi_server.jsonapi.fields import Relationship
from jsonapi_server.jsonapi.schema import ResourceSchema

_LINKS_KEY = "\x00links"  # carries a resource's links from _serialize to format_item


class Attributes(dict):
    """A format_map() source that reads attributes: '{organization_id}' -> obj.organization_id."""

    def __init__(self, obj: Any):
        super().__init__()
        self.obj = obj

    def __missing__(self, key: str) -> Any:
        return getattr(self.obj, key)


class ReferenceRelationship(Relationship):
    """A Relationship as declared, serialized by the rules its docstring states (the library's
    own would read the related object and link through its `self_url` options)."""

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


def _reference_copy(field: Relationship) -> ReferenceRelationship:
    """The declared field, every option it was given kept, with the reference serialize."""
    if type(field) is not Relationship:
        raise TypeError(f"{type(field).__name__}: give it a reference serialize of its own")
    reference = copy.copy(field)
    reference.__class__ = ReferenceRelationship
    return reference


class ReferenceDumping:
    """Put before a ResourceSchema: its dump writes each resource's links (below `base_url`)
    and the to-many linkage of `included_relationships`, as the library's flow writes them."""

    def __init__(
        self,
        *args,
        base_url: str,
        included_relationships: frozenset[str] = frozenset(),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.base_url = base_url
        self.included_relationships = included_relationships

    def _serialize(self, obj, *, many=False):
        if many and obj is not None:
            return [self._serialize(item) for item in obj]
        path = self.opts.self_path
        # Read by each Relationship for its links, then by format_item.
        self.current_link = self.base_url + path.format_map(Attributes(obj)) if path else None
        data = super()._serialize(obj, many=False)
        data[_LINKS_KEY] = self.current_link
        return data

    def format_item(self, item):
        """The library's, with attributes before relationships and the links _serialize wrote."""
        resource = {"type": self.opts.type_}
        attributes, relationships = {}, {}
        self_link = item.pop(_LINKS_KEY)
        for name, field in self.dump_fields.items():
            key = field.data_key or name
            if key not in item:
                continue
            if name == "id":
                resource["id"] = item[key]
            elif not isinstance(field, library_fields.BaseRelationship):
                attributes[self.inflect(name)] = item[key]
            elif item[key]:
                relationships[self.inflect(name)] = item[key]
        if attributes:
            resource["attributes"] = attributes
        if relationships:
            resource["relationships"] = relationships
        if self_link:
            resource["links"] = {"self": self_link}
        return resource


@cache  # one subclass per schema class, as marshmallow registers every class it makes
def reference_schema(schema_class: type[ResourceSchema]) -> type[ResourceSchema]:
    """The schema class, dumping: its relationships redeclared as reference copies (in their
    places, as marshmallow keeps a redeclared field where it was first declared)."""
    relationships = {
        name: _reference_copy(field) for name, field in schema_class.relationship_fields().items()
    }
    return type(
        f"Reference{schema_class.__name__}", (ReferenceDumping, schema_class), relationships
    )


def reference_dump(
    schema_class: type[ResourceSchema],
    objects: Iterable[Any],
    *,
    base_url: str,
    only: frozenset[str] | None = None,
    included_relationships: frozenset[str] = frozenset(),
) -> list[dict]:
    """Resource objects for `objects`, as `Schema.dump` writes them."""
    schema = reference_schema(schema_class)(
        many=True, only=only, base_url=base_url, included_relationships=included_relationships
    )
    return schema.dump(list(objects))["data"]
