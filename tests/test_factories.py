"""Every model has a factory (tests/factories.py): what it makes is committed (another
connection reads it back as made) and is what the API makes (its owner reads it through the
API, the outbox sends it)."""

import pytest
import sqlalchemy as sa

from jsonapi_server.extensions import db
from jsonapi_server.models import Membership

from . import factories
from .factories import FACTORIES

MODELS = sorted((mapper.class_ for mapper in db.Model.registry.mappers), key=lambda m: m.__name__)


def test_every_model_has_a_factory():
    assert [model.__name__ for model in MODELS if model not in FACTORIES] == []


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_what_a_factory_makes_is_committed_as_made(model, session, connection):
    made = FACTORIES[model]()
    mapper = sa.inspect(model)
    key = dict(zip(mapper.primary_key, mapper.primary_key_from_instance(made), strict=True))
    row = connection.execute(
        sa.select(model.__table__).where(*(column == value for column, value in key.items()))
    ).one()
    for column in model.__table__.columns:
        attribute = mapper.get_property_by_column(column).key
        assert row._mapping[column.name] == getattr(made, attribute), column.name


def test_the_api_reads_what_the_factories_make(client, login, session, deliver, inbox):
    organization = factories.OrganizationFactory()
    owner = organization.owner
    member = factories.MembershipFactory(organization=organization).user
    channel = factories.ChannelFactory(organization=organization)
    factories.ChannelMemberFactory(channel=channel, user=member)
    invite = factories.OrganizationInviteFactory(organization=organization)
    gone = factories.DeletedRecordFactory(deleted_by=owner)
    factories.DeletedRecordViewerFactory(deleted_record=gone, user=owner)
    headers = login(owner)
    base = f"/api/v2/organizations/{organization.id}"
    document = client.get(f"{base}?include=memberships,channels,invites", headers=headers).json
    relationships = document["data"]["relationships"]
    assert {m["id"] for m in relationships["memberships"]["data"]} == {
        str(m.id) for m in session.scalars(sa.select(Membership))
    }
    assert relationships["channels"]["data"] == [{"type": "channels", "id": str(channel.id)}]
    assert relationships["invites"]["data"] == [
        {"type": "organization_invites", "id": str(invite.id)}
    ]
    members = client.get(f"{base}/channels/{channel.id}?include=members", headers=headers).json
    assert members["data"]["relationships"]["members"]["data"] == [
        {"type": "users", "id": str(member.id)}
    ]
    tombstones = client.get("/api/v2/deleted_records", headers=headers).json["data"]
    assert [tombstone["id"] for tombstone in tombstones] == [str(gone.id)]
    factories.OutboxMessageFactory(recipient="someone@example.com")
    assert deliver() == 1
    assert [message["To"] for message in inbox] == ["someone@example.com"]
