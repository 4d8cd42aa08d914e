"""docs/ kept honest: every resource type and member the schemas declare is in docs/api.md, and
docs/errors.md lists exactly the error codes the code can answer with, found in the source."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import schemas
from jsonapi_server.jsonapi.schema import ResourceSchema
from jsonapi_server.services.errors import DomainError
from jsonapi_server.services.sync import StaleUpdate

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "jsonapi_server").rglob("*.py"), *(ROOT / "schemas").glob("*.py")])
# Calls whose argument at this position (or keyword `code`) is an error code.
CODE_ARGUMENT = {
    "JsonApiError": 1,
    "error_object": 1,
    "bad_parameter": 2,
    "bad_document": 2,
    "_unauthorized": 0,
    "refuse": 0,
}


def schema_classes() -> Iterator[type[ResourceSchema]]:
    """Every schema of a real type, variants (create, accept, update shapes) too."""
    assert schemas.__all__  # importing the package registered every type
    pending = list(ResourceSchema.__subclasses__())
    while pending:
        schema = pending.pop()
        pending.extend(schema.__subclasses__())
        # (tests declare schemas of their own: only the project's count)
        if schema.__module__.startswith("schemas.") and schema.type_name() != "resources":
            yield schema


def sections(markdown: str) -> dict[str, str]:
    """`### \\`type\\`` headings of docs/api.md and the text under each."""
    found = {}
    for match in re.finditer(r"^### `(\w+)`[^\n]*\n(.*?)(?=^#{2,3} |\Z)", markdown, re.M | re.S):
        found[match.group(1)] = match.group(2)
    return found


def test_every_resource_type_and_member_is_in_the_api_document():
    documented = sections((ROOT / "docs" / "api.md").read_text())
    missing = []
    types = set()
    for schema in schema_classes():
        type_ = schema.type_name()
        types.add(type_)
        text = documented.get(type_)
        if text is None:
            missing.append(type_)
            continue
        missing += [
            f"{type_}.{name}" for name in schema._declared_fields if f"`{name}`" not in text
        ]
    assert not missing, f"docs/api.md does not describe: {missing}"
    assert types >= {"users", "organizations", "organization_invites", "deleted_records"}
    assert set(documented) == types, "docs/api.md describes a type no schema declares"


def test_every_route_is_in_the_api_document(app):
    text = (ROOT / "docs" / "api.md").read_text()
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        # /organizations/<uuid:id>/invites -> /organizations/{id}/invites
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).removeprefix("/api/v2")
        path = path.replace("{organization_id}", "{org}")
        if f"`{path}`" not in text and f"{path}`" not in text:
            missing.append(path)
    assert not missing, f"docs/api.md names no endpoint {sorted(set(missing))}"


def _strings(node: ast.AST) -> set[str]:
    return {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def _call_name(call: ast.Call) -> str | None:
    function = call.func
    if isinstance(function, ast.Name):
        return function.id
    if isinstance(function, ast.Attribute):
        return function.attr
    return None


def _domain_errors() -> dict[str, type[DomainError]]:
    found, pending = {}, [DomainError]
    while pending:
        error = pending.pop()
        found[error.__name__] = error
        pending.extend(error.__subclasses__())
    assert StaleUpdate.__name__ in found
    return found


def codes_in_source() -> set[str]:
    """Every error code the source can answer with, wherever one is written:
    - any call's `code="..."`; a DomainError made without one has its class's code;
    - JsonApiError / error_object / _unauthorized / refuse (batch errors) with a literal code;
    - defaults of parameters named `code` (bad_parameter, bad_document);
    - strings assigned to a variable `code`, and tuples unpacked into `code, detail`;
    - the values of the *_CODES tables (HTTP statuses, marshmallow messages) and the
      fallback of their lookups."""
    errors = _domain_errors()
    codes: set[str] = set()
    for path in SOURCES:
        tree = ast.parse(path.read_text())
        constants = {
            target.id: node.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _call_name(node)
                keyword = next((k.value for k in node.keywords if k.arg == "code"), None)
                if isinstance(keyword, ast.Constant):
                    codes.add(keyword.value)  # any call's code="..." (bad_parameter's too)
                if name in errors and keyword is None:
                    codes.add(errors[name].code)
                elif name in CODE_ARGUMENT:
                    position = CODE_ARGUMENT[name]
                    if len(node.args) > position:
                        codes |= _strings(node.args[position])
                    if keyword is not None:
                        codes |= _strings(keyword)
                elif name == "get" and isinstance(node.func, ast.Attribute):
                    table = node.func.value
                    if isinstance(table, ast.Name) and table.id.endswith("_CODES"):
                        codes |= _strings(node.args[1]) if len(node.args) > 1 else set()
            elif isinstance(node, ast.FunctionDef):
                arguments = node.args.args + node.args.kwonlyargs
                defaults = [None] * (len(node.args.args) - len(node.args.defaults))
                defaults += node.args.defaults + node.args.kw_defaults
                for argument, default in zip(arguments, defaults, strict=True):
                    if argument.arg == "code" and default is not None:
                        codes |= _strings(default)
                # A variable `code` in a function (a class's `code = ...` is only a default).
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Assign) and any(
                        isinstance(target, ast.Name) and target.id == "code"
                        for target in inner.targets
                    ):
                        codes |= _strings(inner.value)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.endswith("_CODES"):
                        codes |= {v.value for v in node.value.values}
                    elif (
                        isinstance(target, ast.Tuple)
                        and isinstance(target.elts[0], ast.Name)
                        and target.elts[0].id == "code"
                        and isinstance(node.value, ast.Name)
                    ):
                        codes.add(constants[node.value.id].elts[0].value)
    return codes


def documented_codes() -> list[str]:
    text = (ROOT / "docs" / "errors.md").read_text()
    return re.findall(r"^\| `([a-z_]+)` \|", text, re.M)


def test_the_collector_finds_codes_of_every_kind():
    codes = codes_in_source()
    # One of each way a code is written, so the collector cannot go blind unnoticed.
    assert {
        "stale_update",  # a DomainError subclass raised without code=
        "not_found",  # NotFound without code=
        "duplicate_id",  # code= literal
        "owner_cannot_leave",  # assigned to `code`
        "already_member",  # a tuple unpacked into code, detail
        "missing_token",  # _unauthorized
        "invalid_email",  # a batch's per-address error
        "malformed_json",  # JsonApiError
        "type_mismatch",  # error_object
        "invalid_parameter",  # bad_parameter's default
        "method_not_allowed",  # HTTP_ERROR_CODES
        "unknown_field",  # marshmallow's messages
    } <= codes
    assert "domain_error" not in codes and "too_soon" not in codes  # defaults never raised


def test_the_error_document_lists_exactly_the_codes_of_the_source():
    listed = documented_codes()
    assert len(listed) == len(set(listed)), "a code is listed twice"
    source = codes_in_source()
    assert sorted(source - set(listed)) == [], "codes the service answers with, not in docs"
    assert sorted(set(listed) - source) == [], "codes in docs/errors.md the service never uses"
