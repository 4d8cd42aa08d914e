"""The compiled resource writer writes exactly what marshmallow-jsonapi's `Schema.dump` writes:
for every field kind, and for every registered type (found in the registry, so a new type is
covered as soon as it is described) from plain objects, from ORM instances and from records,
with every sparse fieldset and with its to-many relationships included or not; and its cached
plans hold nothing of a request."""

import importlib
import json
import pkgutil
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import ClassVar

import marshmallow as ma
import pytest
import sqlalchemy as sa
from marshmallow_jsonapi import fields
from sqlalchemy.orm import Session, selectinload

import schemas
from jsonapi_server.db.records import record_reader
from jsonapi_server.extensions import db
from jsonapi_server.jsonapi import API_PREFIX
from jsonapi_server.jsonapi.fields import Relationship, Timestamp
from jsonapi_server.jsonapi.schema import ResourceSchema
from jsonapi_server.jsonapi.writer import resource_plan, write_resources
from jsonapi_server.times import utc_now

from . import factories
from .reference_dump import reference_dump

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
    buyer = Relationship("test_gadget_owners", related_path="/owners/{buyer_id}")
    parts = Relationship("test_gadgets", many=True)

    class Meta:
        type_ = "test_gadgets"
        self_path = "/shops/{shop_id}/gadgets/{id}"


def assert_writes_as_marshmallow(
    schema_class, objects, written, *, base_url, only=None, included_relationships=frozenset()
):
    dumped = reference_dump(
        schema_class,
        objects,
        base_url=base_url,
        only=only,
        included_relationships=included_relationships,
    )
    assert json.dumps(written) == json.dumps(dumped)


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
        "buyer_id": uuid.uuid4(),
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


def test_a_related_path_gives_a_to_one_its_one_link_when_it_has_data():
    bought, unsold = gadget(), gadget(buyer_id=None)
    written = check([bought, unsold])
    assert written[0]["relationships"]["buyer"] == {
        "links": {"related": f"{BASE}{API_PREFIX}/owners/{bought.buyer_id}"},
        "data": {"type": "test_gadget_owners", "id": str(bought.buyer_id)},
    }
    assert written[1]["relationships"]["buyer"] == {"data": None}
    check([GadgetRecord(**vars(bought)), GadgetRecord(**vars(unsold))])
    with pytest.raises(ValueError, match="to-one"):
        Relationship("test_gadgets", many=True, related_path="/gadgets/{id}")


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


# Every module of the schemas package, imported: every type it describes is registered.
for _module in pkgutil.iter_modules(schemas.__path__):
    importlib.import_module(f"{schemas.__name__}.{_module.name}")
REGISTERED = {
    type_: schema_class
    for type_, schema_class in ResourceSchema.registry.items()
    if schema_class.__module__.startswith(f"{schemas.__name__}.")  # not tests' own types
}
# A type stored in a table of its name is written from its rows, as ORM instances and as
# records; every other (a sign-in's tokens, a batch's outcome) from plain objects, as the
# services' dataclasses are.
MODELS = {
    mapper.class_.__tablename__: mapper.class_
    for mapper in db.Model.registry.mappers
    if mapper.class_.__tablename__ in REGISTERED
}


def to_many(schema_class) -> frozenset[str]:
    return frozenset(n for n, f in schema_class.relationship_fields().items() if f.many)


def fieldsets(schema_class) -> list[frozenset[str] | None]:
    """Every fieldset a document may ask the writer for: all fields, `id` alone, each field
    with `id`, and all but the private ones (jsonapi.document withholds them)."""
    names = [name for name, field in schema_class._declared_fields.items() if not field.load_only]
    chosen = [None, frozenset({"id"}), *(frozenset({"id", name}) for name in names if name != "id")]
    private = schema_class.opts.private_fields
    if private:
        chosen.append(frozenset(schema_class._declared_fields) - private)
    return chosen


def check_every_fieldset(schema_class, objects, includes) -> int:
    """Writes `objects` with each fieldset and each of `includes`, as marshmallow would."""
    checked = 0
    for only in fieldsets(schema_class):
        for included in includes:
            options = {"base_url": BASE, "only": only, "included_relationships": included}
            written = write_resources(schema_class, objects, **options)
            assert_writes_as_marshmallow(schema_class, objects, written, **options)
            checked += 1
    return checked


def plain_object(schema_class, *, empty: bool) -> SimpleNamespace:
    """An object with what each field reads: values, or (`empty`) nulls and empty lists."""
    values = {"id": uuid.uuid4(), "organization_id": uuid.uuid4()}
    for name, field in schema_class._declared_fields.items():
        if isinstance(field, Relationship):
            if field.many:
                related = [] if empty else [SimpleNamespace(id=uuid.uuid4())]
                values[field.attribute or name] = related
            else:
                key = field.id_attribute or f"{field.attribute or name}_id"
                values[key] = None if empty else uuid.uuid4()
        elif name != "id":
            values[field.attribute or name] = None if empty else _value_for(field)
    return SimpleNamespace(**values)


@pytest.mark.parametrize("type_", sorted(REGISTERED))
def test_every_registered_type_is_written_from_plain_objects_as_marshmallow_writes_it(type_):
    schema_class = REGISTERED[type_]
    objects = [plain_object(schema_class, empty=False), plain_object(schema_class, empty=True)]
    includes = [frozenset(), to_many(schema_class)]
    assert check_every_fieldset(schema_class, objects, includes) >= 2


@pytest.fixture
def stored(session):
    """Rows of every stored type, with their optional columns both empty and filled, and
    every to-many relationship a type has holding something."""
    owner = factories.UserFactory(
        username="owner", phone="+1 555 0100", avatar_url="https://a.test/o"
    )
    organization = factories.OrganizationFactory(
        owner=owner,
        description="Makers",
        email="team@example.com",
        industry="Tools",
        location="Lyon",
        country="France",
        logo_url="https://a.test/logo",
    )
    factories.OrganizationFactory()
    member = factories.MembershipFactory(organization=organization, role="admin").user
    factories.MembershipFactory(organization=organization, removed_at=utc_now())
    channel = factories.ChannelFactory(organization=organization, description="General talk")
    factories.ChannelFactory(organization=organization, archived=True, archived_at=utc_now())
    for user in (owner, member):
        factories.ChannelMemberFactory(channel=channel, user=user)
    factories.OrganizationInviteFactory(organization=organization)
    factories.OrganizationInviteFactory(
        organization=organization, accepted_at=utc_now(), accepted_by_user_id=member.id
    )
    factories.OrganizationInviteFactory(
        organization=organization, cancelled_at=utc_now(), cancelled_by_user_id=owner.id
    )
    factories.OrganizationInviteFactory(
        organization=organization, expires_at=utc_now() - timedelta(days=1)
    )
    factories.DeletedRecordFactory()
    factories.DeletedRecordFactory(deleted_by=None)
    factories.EmailChangeFactory(user=owner)
    factories.EmailChangeFactory(user=member, confirmed_at=utc_now())
    factories.PasswordResetFactory(user=owner)
    factories.PasswordResetFactory(user=member, used_at=utc_now())


def instances(connection, model, schema_class) -> list:
    """The model's rows as ORM instances, the to-many relationships of the type loaded (as a
    listing that includes them loads them)."""
    loaded = [selectinload(getattr(model, name)) for name in to_many(schema_class)]
    with Session(bind=connection) as reading:
        return reading.scalars(sa.select(model).options(*loaded)).unique().all()


@pytest.mark.parametrize("type_", sorted(MODELS))
def test_every_stored_type_is_written_from_instances_as_marshmallow_writes_it(
    type_, stored, connection
):
    schema_class, model = REGISTERED[type_], MODELS[type_]
    objects = instances(connection, model, schema_class)
    assert len(objects) >= 2, f"the stored fixture makes one {type_} at most: make more"
    for name in to_many(schema_class):
        attribute = schema_class._declared_fields[name].attribute or name
        assert any(getattr(o, attribute) for o in objects), f"no {type_} has {name}: make some"
    includes = [frozenset(), to_many(schema_class)]
    assert check_every_fieldset(schema_class, objects, includes) >= 2


@pytest.mark.parametrize("type_", sorted(MODELS))
def test_every_stored_type_is_written_from_records_as_marshmallow_writes_it(
    type_, stored, connection
):
    """Records, as a listing reads them (db.records). A listing reads records only when
    every include is to-one, so a record is never written with to-many linkage."""
    schema_class, model = REGISTERED[type_], MODELS[type_]
    reader = record_reader(model, ())
    objects = reader.records(connection.execute(reader.select(sa.select(model))).all())
    assert len(objects) >= 2, f"the stored fixture makes one {type_} at most: make more"
    assert check_every_fieldset(schema_class, objects, [frozenset()]) >= 2
    plan = resource_plan(schema_class, None)
    assert plan._for_records[type(objects[0])] is not plan._generic  # the records' own way


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
        "buyer_id": "uuid",
        "seen_at": "timestamptz",
        "name": "timestamptz",  # written by str() of the value, not from the text: read typed
    }
    id = TypedOnRead(uuid.UUID)
    owner_id = TypedOnRead(uuid.UUID)
    made_by = TypedOnRead(uuid.UUID)
    buyer_id = TypedOnRead(uuid.UUID)
    seen_at = TypedOnRead(datetime.fromisoformat)
    name = TypedOnRead(datetime.fromisoformat)


def test_columns_a_record_holds_as_text_are_written_from_their_text():
    def text_record(seen_at):
        values = vars(gadget(made_by=None, seen_at=seen_at, name="2026-01-02 03:04:05+00"))
        values.update(
            id=str(values["id"]),
            owner_id=str(values["owner_id"]),
            buyer_id=str(values["buyer_id"]),
        )
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
        GadgetSchema,
        records,
        base_url=BASE,
        only=frozenset({"id", "seen_at", "owner", "buyer"}),
    )
    assert TypedOnRead.reads == 0  # ids, linkage, links and times: written from the text
    # beside an object of another class, the general way reads every value as an attribute
    check([text_record("2026-01-02 03:04:05.6789+00"), gadget()])


def test_objects_of_mixed_classes_take_the_general_way():
    mixed = [GadgetRecord(**vars(gadget())), gadget()]
    written = check(mixed)
    assert len(written) == 2
