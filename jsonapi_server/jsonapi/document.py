"""Top-level documents: single resources, collections, compound documents and relationship
documents. Each included resource is dumped once, never repeats a primary resource, and every
one is reachable from the primary data (full linkage)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from . import JSONAPI_VERSION
from .query import QueryParams
from .schema import ResourceSchema, schema_for
from .writer import write_resources


@dataclass(frozen=True)
class DocumentContext:
    """What a document needs of the request: where it lives, what the client asked for, and
    whose private fields (a schema's Meta.private_fields) the caller may see."""

    base_url: str  # scheme://host as the client sees it
    self_link: str  # the request URL
    params: QueryParams
    # Given a resource of a type with private fields: may the caller see them? None: never.
    reveals_private: Callable[[Any], bool] | None = None


def top_level(self_link: str, **members: Any) -> dict:
    document: dict[str, Any] = {"jsonapi": {"version": JSONAPI_VERSION}}
    links = members.pop("links", None) or {}
    document["links"] = {"self": self_link, **links}
    document.update((key, value) for key, value in members.items() if value is not None)
    return document


def include_tree(paths: Sequence[str]) -> dict[str, dict]:
    """`["a", "a.b", "c"]` -> `{"a": {"b": {}}, "c": {}}`."""
    tree: dict[str, dict] = {}
    for path in paths:
        node = tree
        for segment in path.split("."):
            node = node.setdefault(segment, {})
    return tree


def included_relationships_by_type(
    schema_class: type[ResourceSchema], tree: dict[str, dict]
) -> dict[str, frozenset[str]]:
    """For each type in the include tree, the relationships included from it (whatever path
    reached it), so a resource dumped once carries the linkage every path asked for."""
    found: dict[str, set[str]] = {}

    def walk(current: type[ResourceSchema], node: dict[str, dict]) -> None:
        found.setdefault(current.type_name(), set()).update(node)
        relationships = current.relationship_fields()
        for name, subtree in node.items():
            walk(schema_for(relationships[name].type_), subtree)

    walk(schema_class, tree)
    return {type_: frozenset(names) for type_, names in found.items()}


def dump_resources(
    schema_class: type[ResourceSchema],
    objects: Sequence[Any],
    context: DocumentContext,
    linkage: dict[str, frozenset[str]] | None = None,
) -> list[dict]:
    """Resource objects for `objects`, honouring the client's sparse fieldset for the type."""
    if not objects:
        return []
    type_ = schema_class.type_name()
    wanted = context.params.fields.get(type_)
    only = None if wanted is None else frozenset({"id", *wanted})
    write = partial(
        write_resources,
        schema_class,
        base_url=context.base_url,
        included_relationships=(linkage or {}).get(type_, frozenset()),
    )
    private = schema_class.opts.private_fields
    if not private or (only is not None and not only & private):
        return write(objects, only=only)
    withheld = (only or frozenset(schema_class._declared_fields)) - private
    reveals = context.reveals_private
    shown = [reveals is not None and reveals(obj) for obj in objects]
    if all(shown):
        return write(objects, only=only)
    if not any(shown):
        return write(objects, only=withheld)
    # Each object in its own place, written with or without the private fields.
    revealed = iter(write([o for o, s in zip(objects, shown, strict=True) if s], only=only))
    hidden = iter(write([o for o, s in zip(objects, shown, strict=True) if not s], only=withheld))
    return [next(revealed) if s else next(hidden) for s in shown]


def _collect_included(
    schema_class: type[ResourceSchema],
    objects: Sequence[Any],
    tree: dict[str, dict],
    context: DocumentContext,
    seen: set[tuple[str, str]],
    included: list[dict],
    linkage: dict[str, frozenset[str]],
) -> None:
    relationships = schema_class.relationship_fields()
    for name, subtree in tree.items():
        field = relationships[name]
        related: list[Any] = []  # each related resource once, for the paths below this one
        fresh: list[Any] = []  # those not yet in the document
        here: set[str] = set()
        for obj in objects:
            value = getattr(obj, field.attribute or name)
            if value is None:
                continue
            for item in value if field.many else (value,):
                # Keyed by the id's text, which a resource is written with anyway (hashing
                # a UUID read from the database would first work out its number).
                key = str(item.id)
                if key in here:
                    continue
                here.add(key)
                related.append(item)
                if (field.type_, key) not in seen:
                    seen.add((field.type_, key))
                    fresh.append(item)
        related_schema = schema_for(field.type_)
        included.extend(dump_resources(related_schema, fresh, context, linkage))
        if subtree:
            _collect_included(related_schema, related, subtree, context, seen, included, linkage)


def compound_members(
    schema_class: type[ResourceSchema], objects: Sequence[Any], context: DocumentContext
) -> tuple[list[dict], list[dict] | None]:
    """Primary resource objects, and `included` (None when the client asked for no include)."""
    tree = include_tree(context.params.include)
    linkage = included_relationships_by_type(schema_class, tree)
    data = dump_resources(schema_class, objects, context, linkage)
    if not context.params.include_requested:
        return data, None
    seen = {(resource["type"], resource["id"]) for resource in data}
    included: list[dict] = []
    _collect_included(schema_class, objects, tree, context, seen, included, linkage)
    return data, included


def resource_document(
    schema_class: type[ResourceSchema],
    obj: Any,
    context: DocumentContext,
    *,
    meta: dict | None = None,
) -> dict:
    data, included = compound_members(schema_class, [obj], context)
    return top_level(context.self_link, data=data[0], included=included, meta=meta)


def collection_document(
    schema_class: type[ResourceSchema],
    objects: Sequence[Any],
    context: DocumentContext,
    *,
    meta: dict | None = None,
    links: dict | None = None,
) -> dict:
    data, included = compound_members(schema_class, objects, context)
    return top_level(context.self_link, data=data, included=included, meta=meta, links=links)


def relationship_document(
    schema_class: type[ResourceSchema], obj: Any, relationship: str, context: DocumentContext
) -> dict:
    """`GET /things/{id}/relationships/<name>`: the linkage as primary data, with its links."""
    [resource] = write_resources(
        schema_class,
        [obj],
        base_url=context.base_url,
        only=frozenset({"id", relationship}),
        included_relationships=frozenset({relationship}),  # a to-many's linkage is the answer
    )
    relationship_object = resource["relationships"][relationship]
    related_link = relationship_object.get("links", {}).get("related")
    links = {"related": related_link} if related_link else None
    document = top_level(context.self_link, links=links)
    document["data"] = relationship_object["data"]  # null is the answer for an empty to-one
    return document


def error_document(errors: list[dict], self_link: str | None = None, meta: dict | None = None):
    document: dict[str, Any] = {"jsonapi": {"version": JSONAPI_VERSION}}
    if self_link:
        document["links"] = {"self": self_link}
    document["errors"] = errors
    if meta:
        document["meta"] = meta
    return document
