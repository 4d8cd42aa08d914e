"""What each operation of the OpenAPI document answers, derived from its OperationSpec: the
success document, the 4xx error documents it can give, and the query parameters it reads."""

from . import API_PREFIX, JSONAPI_MEDIA_TYPE
from .openapi_schemas import ERROR_DOCUMENT, document_schema, linkage_document, writes_relationships
from .operations import OperationSpec
from .schema import ResourceSchema

KINDS = {
    "list": "List {type}",
    "create": "Create a {type} resource",
    "show": "Read a {type} resource",
    "update": "Change a {type} resource (PUT is PATCH)",
    "delete": "Delete a {type} resource",
    "relationship": "Linkage of a relationship of a {type} resource",
    "related": "The resources a relationship of a {type} resource points at",
    "action": "An action on a {type} resource",
    "change_members": "Add or remove members of a to-many relationship",
}
ERROR_ANSWERS = {
    400: "Malformed JSON, a bad query parameter (`source.parameter`), or a Host this server "
    "does not answer for (`untrusted_host`).",
    401: "No valid credentials: a missing, invalid, expired or revoked bearer token, or "
    "(signing in) a wrong email or password.",
    403: "The caller's role does not allow this, or an `include` it may not read.",
    404: "No such resource, or one the caller may not know exists.",
    406: "An `Accept` whose every JSON:API media type has a parameter it does not allow.",
    409: "A conflict: a duplicate, a type or id mismatch, a stale write (`meta.current`), or "
    "a state that forbids it.",
    410: "The invite has expired or was cancelled.",
    412: "A stale `If-Match` (the resource as it is now in `meta.current`).",
    415: "A body in a media type other than JSON:API's, or with a parameter it does not allow.",
    422: "The document is not valid (`source.pointer`).",
    429: "Too many requests: try again after `Retry-After` seconds.",
}
ORGANIZATIONS = "organizations"


def organization_scoped(schema: type[ResourceSchema], path: str) -> bool:
    """Under an organization, or of a type that belongs to one: the roles decide (403)."""
    return (
        path.startswith(f"{API_PREFIX}/{ORGANIZATIONS}")
        or schema.type_name() == ORGANIZATIONS
        or any(field.type_ == ORGANIZATIONS for field in schema.relationship_fields().values())
    )


def error_statuses(spec: OperationSpec, path: str, limited: bool) -> set[int]:
    """The 4xx answers an operation can give, from its kind, body, route and rate limit."""
    statuses = set(spec.statuses)
    if spec.schema is None:
        return statuses
    body = spec.request is not None
    if body or spec.status != 204:  # a body to read, or a query to parse
        statuses.add(400)
    if body:
        statuses |= {409, 415, 422}
    if not spec.public:
        statuses.add(401)
        if organization_scoped(spec.schema, path):
            statuses.add(403)
    names_others = spec.request == "identifiers" or (
        isinstance(spec.request, type) and writes_relationships(spec.request)
    )
    if "{" in path or names_others:
        statuses.add(404)
    if spec.schema.is_versioned() and spec.kind in ("update", "delete", "action"):
        # A write to a syncable resource: its state may forbid it, If-Match is honoured.
        statuses |= {409, 412}
    if 412 in statuses:
        statuses.add(400)  # an If-Match that is not entity tags
    if limited:
        statuses.add(429)
    return statuses


def query_parameters(spec: OperationSpec) -> list[dict]:
    if spec.schema is None or spec.status == 204:  # nothing is answered, nothing is read
        return []
    parameters = [
        _query_parameter("include", "Related resources to include, comma-separated."),
        _query_parameter(
            f"fields[{spec.schema.type_name()}]",
            "A sparse fieldset: only these members are answered.",
        ),
    ]
    if spec.kind == "list" and spec.collection is not None:
        collection = spec.collection
        page_size = {"type": "integer", "minimum": 1, "maximum": collection.max_page_size}
        parameters += [
            _query_parameter("sort"),
            _query_parameter("page[number]", schema={"type": "integer", "minimum": 1}),
            _query_parameter("page[size]", schema=page_size),
            *(_query_parameter(f"filter[{name}]") for name in sorted(collection.filters)),
        ]
    return parameters


def _query_parameter(name: str, description: str = "", *, schema: dict | None = None) -> dict:
    parameter: dict = {"name": name, "in": "query"}
    if description:
        parameter["description"] = description
    parameter["schema"] = schema or {"type": "string"}
    return parameter


def summary(spec: OperationSpec) -> str:
    if spec.summary:
        return spec.summary
    if spec.schema is None:
        raise ValueError(f"an operation answering plain JSON ({spec.kind}) names its summary")
    return KINDS[spec.kind].format(type=spec.schema.type_name())


def success_response(spec: OperationSpec, documents: dict[str, dict]) -> tuple[str, dict]:
    """The success answer, its document a component (added to `documents`) that every
    operation answering the same shape shares."""
    if spec.status == 204:
        return "204", {"description": "Done; no body."}
    if spec.schema is None:
        if spec.document is not None:
            return str(spec.status), described(summary(spec), spec.document)
        return str(spec.status), described(summary(spec), spec.answer, "application/json")
    if spec.kind == "relationship" or spec.kind == "change_members":
        name = "to_many_linkage" if spec.many else "to_one_linkage"
        documents[name] = linkage_document(spec.many)
    else:
        many, maybe_null = spec.many or spec.kind == "list", spec.kind == "related"
        type_ = spec.schema.type_name()
        name = f"{type_}_collection" if many else f"{type_}_document"
        name += "_or_null" if maybe_null and not many else ""
        documents[name] = document_schema(spec.schema, many=many, maybe_null=maybe_null)
    return str(spec.status), described(summary(spec), {"$ref": f"#/components/schemas/{name}"})


def error_response(spec: OperationSpec, status: int) -> dict:
    if status >= 500:  # a plain JSON endpoint's own answer (not ready)
        return described(summary(spec), spec.answer, "application/json")
    return described(ERROR_ANSWERS[status], ERROR_DOCUMENT)


def described(description: str, schema: dict | None, media: str = JSONAPI_MEDIA_TYPE) -> dict:
    """A response: its description and the schema of its body."""
    return {"description": description, "content": {media: {"schema": schema}}}
