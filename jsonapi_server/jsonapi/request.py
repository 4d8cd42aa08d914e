"""Request documents: read the body, check the document's skeleton before marshmallow sees it,
and load one resource object (tolerating what real clients send)."""

import json
import re
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import request

from .errors import JsonApiError, bad_document, json_pointer
from .schema import ResourceSchema


@dataclass(frozen=True)
class LoadedResource:
    """A resource object from a request: validated attributes and relationship ids."""

    values: dict[str, Any]
    client_id: str | None = None


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def read_document() -> Any:
    """The parsed JSON body: 400 when missing or not JSON in UTF-8, 422 when a string in it
    cannot be stored (413 comes from the size limit). Errors of the whole document point at
    it: `source.pointer` "" (JSON:API 1.1)."""
    body = request.get_data(cache=True)
    if not body.strip():
        raise JsonApiError(
            400, "missing_body", "This request needs a JSON:API document.", pointer=""
        )
    try:
        document = json.loads(body.decode("utf-8-sig"), parse_constant=_not_json)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise JsonApiError(
            400, "malformed_json", "The request body is not valid JSON (UTF-8).", pointer=""
        ) from error
    if _ESCAPED_UNSTORABLE.search(body):
        refuse_unstorable_text(document)
    return document


# NUL and surrogates reach a UTF-8 JSON text only as escapes (raw, they are invalid): a body
# without such an escape needs no walk.
_ESCAPED_UNSTORABLE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def refuse_unstorable_text(document: Any) -> None:
    """422 naming the first string (or, for a member name, the object holding it) with NUL or
    an unpaired surrogate: PostgreSQL stores neither, a password hash would ignore a trailing
    NUL, and neither can be written back as UTF-8. Walked without recursion: a document may be
    nested as deep as the JSON parser allows."""
    pending: list[tuple[tuple, Any]] = [((), document)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                raise _unstorable(path)
        elif isinstance(value, dict):
            for name, member in value.items():
                if _UNSTORABLE.search(name):
                    raise _unstorable(path)
                pending.append(((*path, name), member))
        elif isinstance(value, list):
            pending.extend(((*path, index), item) for index, item in enumerate(value))


def _unstorable(path: tuple) -> JsonApiError:
    return JsonApiError(
        422,
        "invalid_text",
        "Text may not hold NUL (U+0000) or an unpaired surrogate (U+D800 to U+DFFF).",
        pointer=json_pointer(*path),
    )


def resource_object(document: Any) -> dict:
    """`document["data"]` after checking the skeleton marshmallow-jsonapi assumes."""
    if not isinstance(document, dict):
        raise bad_document("", "A JSON:API document must be a JSON object.")
    if "data" not in document:
        raise bad_document("", "The document must have a `data` member.", code="missing_data")
    data = document["data"]
    if not isinstance(data, dict):
        raise bad_document("/data", "`data` must be a single resource object.")
    if not isinstance(data.get("type"), str) or not data["type"]:
        raise bad_document("/data/type", "The resource object must have a string `type`.")
    if data.get("id") is not None and not isinstance(data["id"], str):
        raise bad_document("/data/id", "`id` must be a string.")
    for member in ("attributes", "relationships"):
        if member in data and not isinstance(data[member], dict):
            raise bad_document(f"/data/{member}", f"`{member}` must be an object.")
    for name, value in data.get("relationships", {}).items():
        if not isinstance(value, dict) or "data" not in value:
            raise bad_document(
                json_pointer("data", "relationships", name),
                "A relationship object must have `data`.",
            )
        linkage = value["data"]
        identifiers = linkage if isinstance(linkage, list) else [linkage]
        for identifier in identifiers:
            if identifier is not None and not isinstance(identifier, dict):
                raise bad_document(
                    json_pointer("data", "relationships", name, "data"),
                    "Linkage must be resource identifiers.",
                )
    return data


_LOADERS = threading.local()  # each thread's: a load keeps state on its schema while it runs


def _loader(schema_class: type[ResourceSchema]) -> ResourceSchema:
    """This thread's schema instance for loading `schema_class` (making one copies every
    declared field, a sizeable part of a create). A load keeps nothing for the next: the
    library sets `included_data` and `document_meta` from each document, and ours carry neither."""
    loaders = _LOADERS.__dict__.setdefault("by_schema", {})
    schema = loaders.get(schema_class)
    if schema is None:
        schema = loaders[schema_class] = schema_class()
    return schema


def load_resource(
    schema_class: type[ResourceSchema],
    *,
    expected_id: str | None = None,
    partial: bool = False,
) -> LoadedResource:
    """One resource object of `schema_class`'s type from the request body: a null `id` and a
    `lid` (WarpDrive) count as no id; read-only members are dropped, unknown ones are 422; a
    foreign `type`, or an `id` other than `expected_id`, 409."""
    data = resource_object(read_document())
    expected_type = schema_class.type_name()
    if data["type"] != expected_type:
        raise JsonApiError(
            409,
            "type_mismatch",
            f"This endpoint takes `{expected_type}` resources, not `{data['type']}`.",
            pointer="/data/type",
        )
    client_id = data.get("id")
    if expected_id is not None and client_id is not None and client_id != expected_id:
        raise JsonApiError(
            409, "id_mismatch", "`data.id` does not match the URL.", pointer="/data/id"
        )

    read_only = schema_class.read_only_names()
    attributes = {k: v for k, v in data.get("attributes", {}).items() if k not in read_only}
    relationships = {}
    for name, value in data.get("relationships", {}).items():
        if name in read_only:
            continue
        if name not in schema_class.relationship_fields():
            raise JsonApiError(
                422,
                "unknown_field",
                f"`{expected_type}` has no relationship `{name}`.",
                pointer=json_pointer("data", "relationships", name),
            )
        relationships[name] = value
    clean = {"data": {"type": expected_type, "attributes": attributes}}
    if relationships:
        clean["data"]["relationships"] = relationships
    try:
        values = _loader(schema_class).load(clean, partial=partial)
    except ma.ValidationError as error:
        raise JsonApiError.many(422, error.normalized_messages()["errors"]) from error
    return LoadedResource(values=values, client_id=client_id)


def resolve_parent(sent_id: Any, url_id: uuid.UUID | None, relationship: str) -> uuid.UUID:
    """The parent a resource is written under: the URL's, which a `relationship` in the body
    must match (409); at a flat URL the body must name it (422)."""
    pointer = f"/data/relationships/{relationship}"
    if url_id is not None:
        if sent_id is not None and str(sent_id) != str(url_id):
            raise JsonApiError(
                409,
                "parent_mismatch",
                f"relationships.{relationship} does not match the URL.",
                pointer=pointer,
            )
        return url_id
    if sent_id is None:
        raise JsonApiError(
            422,
            "required",
            f"Name the {relationship} in relationships.{relationship}.",
            pointer=pointer,
        )
    try:
        return uuid.UUID(str(sent_id))
    except ValueError as error:
        raise JsonApiError(404, "not_found", f"No such {relationship}.", pointer=pointer) from error


def load_identifiers(expected_type: str) -> list[uuid.UUID]:
    """The ids of a to-many relationship document (`{"data": [{"type", "id"}, ...]}`)."""
    document = read_document()
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise bad_document("/data", "A to-many relationship document has an array `data`.")
    ids = []
    for index, identifier in enumerate(document["data"]):
        pointer = f"/data/{index}"
        if not isinstance(identifier, dict) or not isinstance(identifier.get("id"), str):
            raise bad_document(pointer, "Each member must be a resource identifier with an id.")
        if identifier.get("type") != expected_type:
            raise JsonApiError(
                409,
                "type_mismatch",
                f"Members must be `{expected_type}`.",
                pointer=f"{pointer}/type",
            )
        try:
            ids.append(uuid.UUID(identifier["id"]))
        except ValueError as error:
            raise JsonApiError(
                404, "not_found", "No such resource.", pointer=f"{pointer}/id"
            ) from error
    return ids
