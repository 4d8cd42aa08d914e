"""UUIDs read from PostgreSQL keep the text they arrived as (db.typecasters.StoredUUID): they
write as that text without working it out again, and otherwise behave as `uuid.UUID`."""

import copy
import pickle
import uuid

import orjson
from sqlalchemy import select, text

from jsonapi_server.db.typecasters import StoredUUID
from jsonapi_server.jsonapi.responses import encode
from jsonapi_server.models import User


def read_back(session, value: uuid.UUID):
    return session.execute(text("SELECT CAST(:value AS uuid)"), {"value": str(value)}).scalar()


def test_uuid_columns_are_read_as_stored_uuids_that_write_as_their_text(session, user):
    read = session.execute(select(User.id).where(User.id == user.id)).scalar_one()
    assert type(read) is StoredUUID
    assert str(read) == str(uuid.UUID(int=user.id.int)) == read._text
    assert repr(read) == f"UUID('{read._text}')"


def test_an_id_read_again_is_the_same_stored_uuid_and_the_memory_is_bounded(session, monkeypatch):
    from jsonapi_server.db import typecasters

    original = uuid.uuid4()
    first = read_back(session, original)
    assert read_back(session, original) is first
    assert first.int == original.int  # worked out once, for every later read of this id
    monkeypatch.setattr(typecasters._uuids_read, "limit", 3)
    for _ in range(10):
        value = uuid.uuid4()
        assert read_back(session, value) == value
        assert len(typecasters._uuids_read) <= 3


def test_a_stored_uuid_equals_hashes_and_reads_as_the_uuid_of_the_same_value(session):
    original = uuid.uuid4()
    stored = read_back(session, original)
    assert type(stored) is StoredUUID
    assert stored == original and original == stored
    assert stored != uuid.uuid4()
    assert hash(stored) == hash(original)
    assert {original: "found"}[stored] == "found"
    assert (stored.int, stored.hex, stored.version) == (original.int, original.hex, 4)
    assert sorted([stored, original]) == [original, original]


def test_a_stored_uuid_binds_as_a_parameter(session, user):
    stored = session.execute(select(User.id).where(User.id == user.id)).scalar_one()
    found = session.execute(select(User.email).where(User.id == stored)).scalar_one()
    assert found == user.email
    assert read_back(session, stored) == stored


def test_arrays_of_uuids_are_read_as_stored_uuids(session):
    values = [uuid.uuid4(), uuid.uuid4()]
    read = session.execute(
        text("SELECT CAST(:values AS uuid[])"), {"values": "{" + ",".join(map(str, values)) + "}"}
    ).scalar()
    assert read == values
    assert all(type(item) is StoredUUID for item in read)


def test_copies_and_pickles_are_plain_uuids(session):
    stored = read_back(session, uuid.uuid4())
    pickled = pickle.dumps(stored)
    for twin in (copy.copy(stored), copy.deepcopy(stored), pickle.loads(pickled)):  # noqa: S301 - our own bytes
        assert type(twin) is uuid.UUID
        assert twin == stored and str(twin) == str(stored)


def test_documents_write_stored_uuids_as_text(session):
    stored = read_back(session, uuid.uuid4())
    assert orjson.loads(encode({"id": stored})) == {"id": str(stored)}
