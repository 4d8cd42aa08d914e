"""Resources declared once: a `Resource` names a type's schema, model, listing and service
functions, from which its five views, flat aliases and relationship endpoints are built."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint

from jsonapi_server.jsonapi.conditional import if_match_base, write_base
from jsonapi_server.jsonapi.request import load_resource, resolve_parent
from jsonapi_server.jsonapi.responses import (
    listing_response,
    no_content,
    query_params,
    resource_response,
)
from jsonapi_server.jsonapi.routing import register_relationships, register_resource
from jsonapi_server.jsonapi.schema import ResourceSchema

from .auth import ORGANIZATION_ARGUMENT, authenticated, current_user

PARENT = "organization"  # the relationship naming the organization a nested resource is in


@dataclass(frozen=True)
class Resource:
    """A resource type and the service functions that serve it. A nested one lives under an
    organization: its service functions take the organization's id (None at a flat alias)."""

    schema: type[ResourceSchema]
    model: type
    path: str  # below the API prefix, or below an organization when nested
    listing: Any
    list_items: Callable  # (user, [organization_id,] query parameters)
    create: Callable  # (user, [organization_id,] values, *, client_id, include)
    show: Callable  # (user, id, [organization_id,] include)
    update: Callable  # (user, id, values, *, [organization_id,] base, precondition, include)
    delete: Callable  # (user, id, *, [organization_id,] base)
    nested: bool = True
    update_schema: type[ResourceSchema] | None = None
    create_limit: Callable | None = None  # a rate limit for creating, applied once signed in


# Every declared resource, by model: what answers a model's instance in a document.
DECLARED: dict[type, Resource] = {}


def declare(resource: Resource) -> None:
    """Declare a resource (its view module does); `register_all` builds its routes."""
    if resource.model in DECLARED:
        raise ValueError(f"{resource.model.__name__} is declared twice")
    DECLARED[resource.model] = resource


_REGISTERED: set[type] = set()


def register_all(blueprint: Blueprint) -> None:
    """The routes of every declared resource, once on the shared blueprint; an organization's
    relationship to a nested type (its `memberships`) is related at that type's collection."""
    nested_paths = {resource.path for resource in DECLARED.values() if resource.nested}
    for model, resource in DECLARED.items():
        if model in _REGISTERED:
            continue
        elsewhere = frozenset() if resource.nested else frozenset(nested_paths)
        _register(blueprint, resource, related_elsewhere=elsewhere)
        _REGISTERED.add(model)


def _named(view: Callable, name: str) -> Callable:
    view.__name__ = view.__qualname__ = name  # rate limits and logs tell views apart by name
    return view


def _register(blueprint: Blueprint, resource: Resource, *, related_elsewhere: frozenset) -> None:
    """List and create at the collection, read, change and delete below it (and flat), and the
    relationship endpoints."""
    schema = resource.schema
    type_ = schema.type_name()

    def parents(organization_id) -> tuple:
        return (organization_id,) if resource.nested else ()

    def scope(organization_id) -> dict:
        return {ORGANIZATION_ARGUMENT: organization_id} if resource.nested else {}

    def list_view(organization_id=None):
        params = query_params(schema, collection=resource.listing)
        result = resource.list_items(current_user(), *parents(organization_id), params)
        return listing_response(schema, result, params)

    def create_view(organization_id=None):
        params = query_params(schema)
        loaded = load_resource(schema)
        loaded.values.pop("updated_in_db_at", None)  # accepted (its form checked), then ignored
        if resource.nested:
            organization_id = resolve_parent(
                loaded.values.pop(PARENT, None), organization_id, PARENT
            )
        created = resource.create(
            current_user(),
            *parents(organization_id),
            loaded.values,
            client_id=loaded.client_id,
            include=params.include,
        )
        # 201 with Location; a replayed create (same client id) answers the same
        return resource_response(schema, created, params, status=201, location=True)

    def show_view(id, organization_id=None):
        params = query_params(schema)
        found = resource.show(current_user(), id, *parents(organization_id), params.include)
        return resource_response(schema, found, params)

    def update_view(id, organization_id=None):
        params = query_params(schema)
        loaded = load_resource(resource.update_schema or schema, expected_id=str(id), partial=True)
        if resource.nested and organization_id is not None:
            resolve_parent(loaded.values.get(PARENT), organization_id, PARENT)
        base = write_base(loaded.values)
        updated = resource.update(
            current_user(),
            id,
            loaded.values,
            **scope(organization_id),
            base=base.version,
            precondition=base.precondition,
            include=params.include,
        )
        return resource_response(schema, updated, params)

    def delete_view(id, organization_id=None):
        resource.delete(current_user(), id, **scope(organization_id), base=if_match_base().version)
        return no_content()

    def load(id, include, organization_id=None):
        return resource.show(current_user(), id, *parents(organization_id), include)

    create = _named(create_view, f"create_{type_}")
    if resource.create_limit is not None:
        create = resource.create_limit(create)
    collection_path = f"/{resource.path}"
    if resource.nested:
        collection_path = f"/organizations/<uuid:{ORGANIZATION_ARGUMENT}>{collection_path}"
    item_path = f"{collection_path}/<uuid:id>"
    register_resource(
        blueprint,
        schema,
        listing=resource.listing,
        update_schema=resource.update_schema,
        item_path=item_path,
        item_views={
            "GET": authenticated(_named(show_view, f"show_{type_}")),
            "PATCH": authenticated(_named(update_view, f"update_{type_}")),
            "DELETE": authenticated(_named(delete_view, f"delete_{type_}")),
        },
        collection_path=collection_path,
        collection_views={
            "GET": authenticated(_named(list_view, f"list_{type_}")),
            "POST": authenticated(create),
        },
        parent_argument=ORGANIZATION_ARGUMENT if resource.nested else None,
    )
    register_relationships(
        blueprint,
        schema,
        item_path=item_path,
        load=authenticated(_named(load, f"load_{type_}")),
        related_elsewhere=related_elsewhere,
    )
