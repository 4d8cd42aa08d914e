"""Validation of every JSON:API document the tests receive, against the official 1.1 schema
(vendored in tests/data/jsonapi-schema, source and licence in its README), with the three
python-jsonschema adjustments that README names."""

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft7Validator, Draft202012Validator, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_DIRECTORY = Path(__file__).resolve().parent / "data" / "jsonapi-schema"

# 1. The schemas use the pre-2019 `dependencies` keyword, which 2020-12 validators ignore.
JsonApiValidator = validators.extend(
    Draft202012Validator, {"dependencies": Draft7Validator.VALIDATORS["dependencies"]}
)


def _without_empty_patterns(node):
    """2. `"patternProperties": {"": true}` is skipped by python-jsonschema; `^` means the same."""
    if isinstance(node, dict):
        fixed = {key: _without_empty_patterns(value) for key, value in node.items()}
        patterns = fixed.get("patternProperties")
        if isinstance(patterns, dict) and "" in patterns:
            patterns["^"] = patterns.pop("")
        return fixed
    if isinstance(node, list):
        return [_without_empty_patterns(item) for item in node]
    return node


@cache
def validator(name: str = "schema.json") -> JsonApiValidator:
    documents = {
        path.name: _without_empty_patterns(json.loads(path.read_text()))
        for path in SCHEMA_DIRECTORY.glob("schema*.json")
    }
    # 3. Request schemas $ref the response schema by $id: register them all.
    registry = Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc, default_specification=DRAFT202012))
        for doc in documents.values()
        if "$id" in doc
    )
    return JsonApiValidator(
        documents[name],
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def validation_errors(document, name: str = "schema.json") -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator(name).iter_errors(document)
    ]
