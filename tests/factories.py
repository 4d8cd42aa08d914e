"""Test data (factory_boy), one factory per model, written and committed through the test's own
session."""

import secrets
import uuid
from datetime import timedelta

import factory
from werkzeug.security import generate_password_hash

from jsonapi_server.models import (
    Channel,
    ChannelMember,
    DeletedRecord,
    DeletedRecordViewer,
    EmailChange,
    Membership,
    Organization,
    OrganizationInvite,
    OutboxMessage,
    PasswordReset,
    RevokedSession,
    TokenSession,
    User,
)
from jsonapi_server.services.one_time_codes import digest
from jsonapi_server.times import utc_now

PASSWORD = "correct horse battery"
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def later(**delta) -> factory.LazyFunction:
    return factory.LazyFunction(lambda: utc_now() + timedelta(**delta))


class SessionHolder:
    """The SQLAlchemy session of the running test (set by conftest)."""

    session = None


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: SessionHolder.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password_hash = PASSWORD_HASH
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    is_verified = True
    is_superadmin = False


class RevokedSessionFactory(BaseFactory):
    class Meta:
        model = RevokedSession

    class Params:
        user = factory.SubFactory(UserFactory)

    id = factory.LazyFunction(uuid.uuid4)
    user_id = factory.SelfAttribute("user.id")
    expires_at = later(days=30)


class TokenSessionFactory(BaseFactory):
    class Meta:
        model = TokenSession

    class Params:
        user = factory.SubFactory(UserFactory)

    id = factory.LazyFunction(uuid.uuid4)
    user_id = factory.SelfAttribute("user.id")
    expires_at = later(days=30)


class EmailChangeFactory(BaseFactory):
    class Meta:
        model = EmailChange

    user = factory.SubFactory(UserFactory)
    new_email = factory.Sequence(lambda n: f"moved{n}@example.com")
    code_hash = factory.LazyFunction(lambda: digest(secrets.token_hex(32)))
    expires_at = later(hours=1)


class PasswordResetFactory(BaseFactory):
    class Meta:
        model = PasswordReset

    class Params:
        user = factory.SubFactory(UserFactory)

    user_id = factory.SelfAttribute("user.id")
    token_hash = factory.LazyFunction(lambda: digest(secrets.token_hex(32)))
    expires_at = later(hours=1)


class MembershipFactory(BaseFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory("tests.factories.OrganizationFactory")
    user = factory.SubFactory(UserFactory)
    role = "member"


class OrganizationFactory(BaseFactory):
    """An organization and its owner's membership, as the API makes one (but its channel)."""

    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    owner = factory.SubFactory(UserFactory)
    owner_membership = factory.RelatedFactory(
        MembershipFactory, "organization", user=factory.SelfAttribute("..owner"), role="owner"
    )


class ChannelFactory(BaseFactory):
    class Meta:
        model = Channel

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"channel-{n}")
    owner_id = factory.SelfAttribute("organization.owner_id")


class ChannelMemberFactory(BaseFactory):
    class Meta:
        model = ChannelMember

    class Params:
        channel = factory.SubFactory(ChannelFactory)
        user = factory.SubFactory(UserFactory)

    channel_id = factory.SelfAttribute("channel.id")
    user_id = factory.SelfAttribute("user.id")


class OrganizationInviteFactory(BaseFactory):
    class Meta:
        model = OrganizationInvite

    organization = factory.SubFactory(OrganizationFactory)
    recipient_email = factory.Sequence(lambda n: f"guest{n}@example.com")
    invite_user_as = "member"
    code = factory.LazyFunction(lambda: secrets.token_hex(32))
    expires_at = later(days=7)
    last_sent_at = factory.LazyFunction(utc_now)
    invited_by_user_id = factory.SelfAttribute("organization.owner_id")


class OutboxMessageFactory(BaseFactory):
    class Meta:
        model = OutboxMessage

    recipient = factory.Sequence(lambda n: f"recipient{n}@example.com")
    subject = "A message"
    text_body = "Hello."
    html_body = "<p>Hello.</p>"


class DeletedRecordFactory(BaseFactory):
    class Meta:
        model = DeletedRecord

    deletable_type = "channels"
    deletable_id = factory.LazyFunction(uuid.uuid4)
    deleted_at = factory.LazyFunction(utc_now)
    updated_in_db_at = factory.SelfAttribute("deleted_at")
    deleted_by = factory.SubFactory(UserFactory)


class DeletedRecordViewerFactory(BaseFactory):
    class Meta:
        model = DeletedRecordViewer

    class Params:
        deleted_record = factory.SubFactory(DeletedRecordFactory)
        user = factory.SubFactory(UserFactory)

    deleted_record_id = factory.SelfAttribute("deleted_record.id")
    user_id = factory.SelfAttribute("user.id")


# The factory of each model (every model has one: tests/test_factories.py).
FACTORIES = {
    subclass._meta.model: subclass
    for subclass in BaseFactory.__subclasses__()
    if not subclass._meta.abstract
}
