"""The compiled resource writer writes exactly what marshmallow-jsonapi's `Schema.dump` writes
(conftest checks every document of the suite the same way), for every field kind and every
registered type, and its cached plans hold nothing of a request."""

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import ClassVar

import marshmallow as ma
from marshmallow_jsonapi import fields

from jsonapi_server.jsonapi import API_PREFIX
from jsonapi_server.jsonapi.writer import resource_plan, write_resources
from schemas.base import Relationship, ResourceSchema, Timestamp

from .conftest import assert_writes_as_marshmallow

BASE = "http://api.test"


class Shouting(ma.fields.String):
    """A field with serialization of its own: the writer must hand it to marshmallow."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.upper()


class GadgetSchema(ResourceSchema):
    id = fields.Str(dump_only=True)
    name = fields.Str()
    contact = fields.Email()
    active = fields.Bool()
    size = fields.Int()
    extra = fields.Raw()
    tags = fields.List(fields.Str())
    settings = fields.Dict()
    seen_at = Timestamp()
    shout = Shouting()
    renamed = fields.Str(attribute="internal_name")
    secret = fields.Str(load_only=True)
    owner = Relationship("test_gadget_owners")
    maker = Relationship("test_gadget_owners", id_attribute="made_by", links=False)
    parts = Relationship("test_gadgets", many=True)

    class Meta:
        type_ = "test_gadgets"
        self_path = "/shops/{shop_id}/gadgets/{id}"


def gadget(**overrides):
    values = {
        "id": uuid.uuid4(),
        "shop_id": "shop 1",
        "name": "Gadget",
        "contact": "a@example.com",
        "active": True,
        "size": 3,
        "extra": {"any": ["thing", 1]},
        "tags": ["a", "b"],
        "settings": {"k": "v"},
        "seen_at": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        "shout": "quiet",
        "internal_name": "inside",
        "secret": "never written",
        "owner_id": uuid.uuid4(),
        "made_by": None,
        "parts": [SimpleNamespace(id="p1"), SimpleNamespace(id="p2")],
    }
    values.update(overrides)
    return SimpleNamespace(**values)


def check(objects, **options):
    options.setdefault("base_url", BASE)
    written = write_resources(GadgetSchema, objects, **options)
    assert_writes_as_marshmallow(GadgetSchema, objects, written, **options)
    return written


def test_every_field_kind_is_written_as_marshmallow_writes_it():
    [resource] = check([gadget()])
    assert resource["attributes"]["shout"] == "QUIET"  # the field's own serialization
    assert resource["attributes"]["renamed"] == "inside"
    assert "secret" not in resource["attributes"]
    assert resource["attributes"]["seen_at"] == "2026-01-02T03:04:05.678Z"
    assert resource["links"]["self"] == f"{BASE}{API_PREFIX}/shops/shop 1/gadgets/{resource['id']}"
    assert resource["relationships"]["maker"] == {"data": None}
    assert "data" not in resource["relationships"]["parts"]


def test_nulls_and_falsy_values():
    check([gadget(name=None, contact=None, active=False, size=0, seen_at=None, shout=None)])
    check([gadget(active=None, size=None, tags=None, settings=None, extra=None)])


def test_attributes_the_object_lacks_are_left_out():
    partial = gadget()
    del partial.name, partial.seen_at
    [resource] = check([partial])
    assert "name" not in resource["attributes"] and "seen_at" not in resource["attributes"]


def test_sparse_fieldsets_and_included_to_many_linkage():
    objects = [gadget(), gadget(parts=[])]
    check(objects, only=frozenset({"id", "name", "owner"}))
    check(objects, only=frozenset({"id"}))
    written = check(objects, included_relationships=frozenset({"parts"}))
    assert written[0]["relationships"]["parts"]["data"] == [
        {"type": "test_gadgets", "id": "p1"},
        {"type": "test_gadgets", "id": "p2"},
    ]
    assert written[1]["relationships"]["parts"]["data"] == []


def _value_for(field: ma.fields.Field):
    if isinstance(field, Timestamp):
        return datetime(2026, 3, 4, 5, 6, 7, 89000, tzinfo=UTC)
    if isinstance(field, ma.fields.Boolean):
        return True
    if isinstance(field, ma.fields.Integer):
        return 7
    if isinstance(field, ma.fields.List):
        return [_value_for(field.inner)]
    if isinstance(field, ma.fields.Dict):
        return {"detail": "d"}
    return "x@example.com"


def test_every_registered_type_is_written_as_marshmallow_writes_it():
    for type_, schema_class in ResourceSchema.registry.items():
        if type_.startswith("test_"):
            continue
        values = {"id": uuid.uuid4(), "organization_id": uuid.uuid4()}
        for name, field in schema_class._declared_fields.items():
            if isinstance(field, Relationship):
                if field.many:
                    values[field.attribute or name] = [SimpleNamespace(id=uuid.uuid4())]
                else:
                    values[field.id_attribute or f"{field.attribute or name}_id"] = uuid.uuid4()
            elif name != "id":
                values[field.attribute or name] = _value_for(field)
        objects = [SimpleNamespace(**values)]
        everything = frozenset(schema_class.relationship_fields())
        for options in ({}, {"included_relationships": everything}):
            written = write_resources(schema_class, objects, base_url=BASE, **options)
            assert_writes_as_marshmallow(schema_class, objects, written, base_url=BASE, **options)


def test_a_cached_plan_holds_nothing_of_a_request():
    item = gadget()
    first = check([item], base_url="https://one.test", included_relationships=frozenset({"parts"}))
    second = check([item], base_url="https://two.test")
    assert first[0]["links"]["self"].startswith("https://one.test/")
    assert second[0]["links"]["self"].startswith("https://two.test/")
    assert second[0]["relationships"]["owner"]["links"]["self"].startswith("https://two.test/")
    assert "data" not in second[0]["relationships"]["parts"]


def test_plans_for_client_chosen_fieldsets_are_bounded():
    names = sorted(set(GadgetSchema._declared_fields) - {"id", "secret"})
    resource_plan.cache_clear()
    for mask in range(1, 700):
        chosen = {name for bit, name in enumerate(names) if mask & (1 << bit)}
        resource_plan(GadgetSchema, frozenset({"id", *chosen}))
    assert resource_plan.cache_info().currsize <= resource_plan.cache_info().maxsize == 512


class GadgetRecord:
    """Holds every column in its __dict__ (as db.records' classes promise)."""

    __record_columns__ = frozenset(vars(gadget()))

    def __init__(self, **values):
        self.__dict__.update(values)


class LackingRecord(GadgetRecord):
    __record_columns__ = frozenset(vars(gadget())) - {"name"}


def test_records_are_written_by_a_function_made_for_their_class():
    records = [GadgetRecord(**vars(gadget())), GadgetRecord(**vars(gadget(made_by="m")))]
    for options in ({}, {"only": frozenset({"id", "name", "owner"})}):
        check(records, included_relationships=frozenset({"parts"}), **options)
        plan = resource_plan(GadgetSchema, options.get("only"))
        assert GadgetRecord in plan._for_records
        assert plan._for_records[GadgetRecord] is not plan._generic


def test_a_record_class_lacking_an_attribute_takes_the_general_way():
    values = vars(gadget())
    del values["name"]
    [resource] = check([LackingRecord(**values)])
    assert "name" not in resource["attributes"]
    plan = resource_plan(GadgetSchema, None)
    assert plan._for_records[LackingRecord] is plan._generic


class TypedOnRead:
    """A column held as text, typed when read as an attribute (db.records' way)."""

    reads = 0

    def __init__(self, type_text):
        self.type_text = type_text

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, record, owner=None):
        if record is None:
            return self
        TypedOnRead.reads += 1
        text = record.__dict__[self.name]
        return None if text is None else self.type_text(text)

    def __set__(self, record, value):
        raise AttributeError(self.name)


class TextRecord(GadgetRecord):
    __record_text_columns__: ClassVar[dict[str, str]] = {
        "id": "uuid",
        "owner_id": "uuid",
        "made_by": "uuid",
        "seen_at": "timestamptz",
        "name": "timestamptz",  # written by str() of the value, not from the text: read typed
    }
    id = TypedOnRead(uuid.UUID)
    owner_id = TypedOnRead(uuid.UUID)
    made_by = TypedOnRead(uuid.UUID)
    seen_at = TypedOnRead(datetime.fromisoformat)
    name = TypedOnRead(datetime.fromisoformat)


def test_columns_a_record_holds_as_text_are_written_from_their_text():
    def text_record(seen_at):
        values = vars(gadget(made_by=None, seen_at=seen_at, name="2026-01-02 03:04:05+00"))
        values.update(id=str(values["id"]), owner_id=str(values["owner_id"]))
        return TextRecord(**values)

    records = [text_record("2026-01-02 03:04:05.6789+00"), text_record(None)]
    written = check(records)  # as marshmallow writes the typed values
    assert [resource["attributes"]["seen_at"] for resource in written] == [
        "2026-01-02T03:04:05.678Z",
        None,
    ]
    assert written[0]["attributes"]["name"] == "2026-01-02 03:04:05+00:00"
    TypedOnRead.reads = 0
    write_resources(
        GadgetSchema, records, base_url=BASE, only=frozenset({"id", "seen_at", "owner"})
    )
    assert TypedOnRead.reads == 0  # ids, linkage and times: written from the text
    # beside an object of another class, the general way reads every value as an attribute
    check([text_record("2026-01-02 03:04:05.6789+00"), gadget()])


def test_objects_of_mixed_classes_take_the_general_way():
    mixed = [GadgetRecord(**vars(gadget())), gadget()]
    written = check(mixed)
    assert len(written) == 2
