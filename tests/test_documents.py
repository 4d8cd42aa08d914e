"""Compound documents and the marshmallow-jsonapi 0.24 defects our base neutralizes (README's
"marshmallow-jsonapi 0.24, neutralized" names each), one regression test per defect."""

import threading
from types import SimpleNamespace

import pytest
from marshmallow import ValidationError, validates_schema
from marshmallow_jsonapi import fields

from jsonapi_server.jsonapi import request as request_module
from jsonapi_server.jsonapi.document import (
    DocumentContext,
    collection_document,
    relationship_document,
    resource_document,
)
from jsonapi_server.jsonapi.errors import JsonApiError
from jsonapi_server.jsonapi.fields import Relationship
from jsonapi_server.jsonapi.query import QueryParams
from jsonapi_server.jsonapi.request import load_resource
from jsonapi_server.jsonapi.schema import ResourceSchema

from .jsonapi_validation import validation_errors


class PersonSchema(ResourceSchema):
    id = fields.Str(dump_only=True)
    name = fields.Str(required=True)
    inviter = Relationship("test_people", id_attribute="inviter_id")
    friends = Relationship("test_people", many=True)

    class Meta:
        type_ = "test_people"
        self_path = "/test-people/{id}"

    @validates_schema
    def name_is_not_reserved(self, data, **kwargs):
        if data.get("name") == "admin":
            raise ValidationError("This name is reserved.")


class Person(SimpleNamespace):
    """A plain object; reading `inviter` (the related object) counts as a query, and reading
    `name` counts as writing the resource (every resource object has the attribute once)."""

    lazy_loads = 0
    name_reads = 0

    @property
    def inviter(self):
        Person.lazy_loads += 1
        return self.related_inviter

    @property
    def name(self):
        Person.name_reads += 1
        return self.stored_name


def person(id_, inviter=None, friends=None):
    return Person(
        id=id_,
        stored_name=f"person {id_}",
        related_inviter=inviter,
        inviter_id=inviter.id if inviter else None,
        friends=friends or [],
    )


def context(*include: str, fields=None) -> DocumentContext:
    params = QueryParams(include=include, include_requested=bool(include), fields=fields or {})
    return DocumentContext(base_url="http://api.test", self_link="http://api.test/x", params=params)


def ids(resources):
    return [(r["type"], r["id"]) for r in resources]


def test_included_resources_never_leak_into_a_later_document():
    """Defect 1: the library keeps `included_data` on a reused schema instance."""
    first = resource_document(PersonSchema, person("10", inviter=person("1")), context("inviter"))
    second = resource_document(PersonSchema, person("11", inviter=person("2")), context("inviter"))
    assert ids(first["included"]) == [("test_people", "1")]
    assert ids(second["included"]) == [("test_people", "2")]


def test_primary_resources_are_not_repeated_in_included():
    """Defect 2: the library repeats primary resources in `included`."""
    a = person("1")
    b = person("2", inviter=a)
    document = collection_document(PersonSchema, [a, b], context("inviter"))
    assert document["included"] == []
    assert not validation_errors(document)


def test_each_included_resource_is_serialized_once():
    """Defect 6: the library dumps an included resource once per occurrence."""
    shared = [person(f"u{i}") for i in range(10)]
    primaries = [person(f"p{i}", inviter=shared[i % 10]) for i in range(100)]
    Person.name_reads = 0
    document = collection_document(PersonSchema, primaries, context("inviter"))
    assert len(document["included"]) == 10
    assert Person.name_reads == 110  # 100 primaries + 10 included, each once


def test_linkage_comes_from_the_foreign_key_not_the_related_object():
    """Defect 7: the library reads the relationship (a lazy load per row) for linkage."""
    people = [person(f"p{i}", inviter=person("u")) for i in range(20)]
    Person.lazy_loads = 0
    document = collection_document(PersonSchema, people, context())
    assert Person.lazy_loads == 0
    assert all(
        r["relationships"]["inviter"]["data"] == {"type": "test_people", "id": "u"}
        for r in document["data"]
    )


def test_two_level_include_and_full_linkage():
    root = person("root")
    middle = person("mid", inviter=root)
    leaf = person("leaf", inviter=middle)
    document = resource_document(PersonSchema, leaf, context("inviter.inviter"))
    assert ids(document["included"]) == [("test_people", "mid"), ("test_people", "root")]
    assert document["data"]["relationships"]["inviter"]["data"]["id"] == "mid"
    assert document["included"][0]["relationships"]["inviter"]["data"]["id"] == "root"


def test_to_many_linkage_only_when_included():
    friend = person("f")
    someone = person("s", friends=[friend])
    plain = resource_document(PersonSchema, someone, context())["data"]["relationships"]
    assert "data" not in plain["friends"] and plain["friends"]["links"]["related"]
    included = resource_document(PersonSchema, someone, context("friends"))
    assert included["data"]["relationships"]["friends"]["data"] == [
        {"type": "test_people", "id": "f"}
    ]
    assert ids(included["included"]) == [("test_people", "f")]


def test_relationship_links_and_null_to_one():
    document = resource_document(PersonSchema, person("1"), context())
    inviter = document["data"]["relationships"]["inviter"]
    assert inviter == {
        "links": {
            "self": "http://api.test/api/v2/test-people/1/relationships/inviter",
            "related": "http://api.test/api/v2/test-people/1/inviter",
        },
        "data": None,
    }
    assert document["data"]["links"]["self"] == "http://api.test/api/v2/test-people/1"


def test_included_is_present_and_empty_when_include_finds_nothing():
    document = resource_document(PersonSchema, person("1"), context("inviter"))
    assert document["included"] == []
    assert "included" not in resource_document(PersonSchema, person("1"), context())


def test_sparse_fieldsets_apply_to_included_resources():
    leaf = person("leaf", inviter=person("mid"))
    document = resource_document(
        PersonSchema, leaf, context("inviter", fields={"test_people": frozenset({"name"})})
    )
    assert set(document["included"][0]) == {"type", "id", "attributes", "links"}
    assert set(document["data"]["attributes"]) == {"name"}


def test_relationship_document():
    someone = person("s", inviter=person("i"), friends=[person("a"), person("b")])
    to_one = relationship_document(PersonSchema, someone, "inviter", context())
    assert to_one["data"] == {"type": "test_people", "id": "i"}
    assert to_one["links"]["related"].endswith("/test-people/s/inviter")
    to_many = relationship_document(PersonSchema, someone, "friends", context())
    assert ids(to_many["data"]) == [("test_people", "a"), ("test_people", "b")]
    assert not validation_errors(to_many)


def test_loads_share_one_schema_per_thread_and_nothing_between_documents(app):
    documents = [
        ({"data": {"type": "test_people", "attributes": {"name": "A"}}}, False),
        ({"data": {"type": "test_people", "attributes": {"name": "admin"}}}, False),  # refused
        ({"data": {"type": "test_people", "attributes": {}}}, True),
    ]
    loaded = []
    for document, partial in documents:
        with app.test_request_context(json=document):
            try:
                loaded.append(load_resource(PersonSchema, partial=partial))
            except JsonApiError as error:
                loaded.append(error.status)
    assert loaded[0].values == {"name": "A"}
    assert loaded[1] == 422
    assert loaded[2].values == {}  # nothing of the documents loaded before
    instances = []

    def load_in_a_thread():
        instances.append(request_module._loader(PersonSchema))

    thread = threading.Thread(target=load_in_a_thread)
    thread.start()
    thread.join()
    # another thread loads with a schema of its own (a load keeps state while it runs)
    assert instances[0] is not request_module._loader(PersonSchema)
    assert request_module._loader(PersonSchema) is request_module._loader(PersonSchema)


def test_schema_level_errors_become_error_objects(app):
    """Defect 3: errors raised in @validates_schema come out as bare strings."""
    document = {"data": {"type": "test_people", "attributes": {"name": "admin"}}}
    with app.test_request_context(json=document), pytest.raises(JsonApiError) as raised:
        load_resource(PersonSchema)
    assert raised.value.status == 422
    assert raised.value.errors == [
        {
            "status": "422",
            "code": "invalid",
            "title": "Unprocessable Content",
            "detail": "This name is reserved.",
            "source": {"pointer": "/data"},
        }
    ]
