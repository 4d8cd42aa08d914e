"""One helper that registers a resource at its nested URLs and at the flat
`/api/v2/<type>/<id>` aliases clients build from the type (as-is and dasherized)."""

from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint

from .current import current_request
from .operations import OperationSpec, describe
from .responses import related_response, relationship_response
from .schema import ResourceSchema, schema_for

View = Callable[..., Any]


def _dispatcher(views: Mapping[str, View]) -> View:
    # Flask adds HEAD to every GET rule; it answers as GET does (werkzeug drops the body).
    table = dict(views)
    if "GET" in table:
        table.setdefault("HEAD", table["GET"])

    def dispatch(**kwargs):
        return table[current_request().method](**kwargs)

    described: Any = dispatch  # (a function's own attributes have no declared type)
    described.views = dict(views)  # read by the OpenAPI generator
    return dispatch


def _describe_once(view: Any, spec: OperationSpec) -> None:
    """Describe a view for the OpenAPI document unless it describes itself."""
    if not hasattr(view, "openapi"):
        view.openapi = spec


def type_spellings(type_: str) -> list[str]:
    """`organization_invites` -> ["organization_invites", "organization-invites"]."""
    return list(dict.fromkeys([type_, type_.replace("_", "-")]))


def register_resource(
    blueprint: Blueprint,
    schema: type[ResourceSchema],
    *,
    item_path: str,
    item_views: Mapping[str, View],
    collection_path: str | None = None,
    collection_views: Mapping[str, View] | None = None,
    parent_argument: str | None = None,
    listing: object = None,
    create_schema: type[ResourceSchema] | None = None,
    update_schema: type[ResourceSchema] | None = None,
) -> None:
    """Register `item_views` (GET/PATCH/DELETE; PUT answers as PATCH) at `item_path` and
    `collection_views` (GET/POST) at `collection_path`, plus the flat aliases: item views at
    `/<type>/<uuid:id>` and POST at `/<type>`, called with `parent_argument=None` so the view
    takes the parent from the document instead of the URL. Each view is described for the
    OpenAPI document from `schema`, `listing` and the create/update schemas."""
    type_ = schema.type_name()
    item_specs = {
        "GET": OperationSpec("show", schema),
        "PATCH": OperationSpec("update", schema, request=update_schema or schema),
        "DELETE": OperationSpec("delete", schema, status=204),
    }
    collection_specs = {
        "GET": OperationSpec("list", schema, collection=listing, many=True),
        "POST": OperationSpec("create", schema, request=create_schema or schema, status=201),
    }
    for method, view in item_views.items():
        _describe_once(view, item_specs[method])
    for method, view in (collection_views or {}).items():
        _describe_once(view, collection_specs[method])
    item_views = dict(item_views)
    if "PATCH" in item_views:
        item_views.setdefault("PUT", item_views["PATCH"])
    item_view = _dispatcher(item_views)
    blueprint.add_url_rule(
        item_path, endpoint=f"{type_}_item", view_func=item_view, methods=list(item_views)
    )

    def add_flat(suffix: str, name: str, view: View, methods: list[str], own: str | None) -> None:
        """`/<type><suffix>` in each spelling of the type but the view's own path."""
        for number, spelling in enumerate(type_spellings(type_)):
            if f"/{spelling}{suffix}" != own:
                blueprint.add_url_rule(
                    f"/{spelling}{suffix}",
                    endpoint=f"{type_}_{name}_flat_{number}",
                    view_func=view,
                    methods=methods,
                    defaults={parent_argument: None} if parent_argument else None,
                )

    add_flat("/<uuid:id>", "item", item_view, list(item_views), item_path)
    if not collection_views:
        return
    if collection_path is None:
        raise TypeError("collection_views are registered at a collection_path")
    blueprint.add_url_rule(
        collection_path,
        endpoint=f"{type_}_collection",
        view_func=_dispatcher(collection_views),
        methods=list(collection_views),
    )
    if "POST" in collection_views:
        create = _dispatcher({"POST": collection_views["POST"]})
        add_flat("", "create", create, ["POST"], collection_path)


def register_relationships(
    blueprint: Blueprint,
    schema_class: type[ResourceSchema],
    *,
    item_path: str,
    load: Callable[..., object],
    related_elsewhere: frozenset[str] = frozenset(),
) -> None:
    """GET `<item>/relationships/<name>` (linkage) and `<item>/<name>` (the related resources)
    for every relationship of the type. `load(include=[name], **url_arguments)` fetches the
    resource (checking access); `related_elsewhere` names relationships whose related URL is a
    collection endpoint registered on its own."""
    type_ = schema_class.type_name()
    for name, field in schema_class.relationship_fields().items():

        def linkage(_name=name, **kwargs):
            return relationship_response(schema_class, load(include=[_name], **kwargs), _name)

        describe("relationship", schema_class, many=field.many)(linkage)

        blueprint.add_url_rule(
            f"{item_path}/relationships/{name}",
            endpoint=f"{type_}_relationship_{name}",
            view_func=linkage,
            methods=["GET"],
        )
        if name in related_elsewhere:
            continue

        def related(_name=name, **kwargs):
            return related_response(schema_class, load(include=[_name], **kwargs), _name)

        describe("related", schema_for(field.type_), many=field.many)(related)

        blueprint.add_url_rule(
            f"{item_path}/{name}",
            endpoint=f"{type_}_related_{name}",
            view_func=related,
            methods=["GET"],
        )
