"""Command-line tasks."""

import uuid
from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import check_password_hash

from jsonapi_server.models import RevokedSession, User
from jsonapi_server.times import utc_now

from .factories import UserFactory


def test_create_superadmin_with_password(app, session):
    result = app.test_cli_runner().invoke(
        args=["users", "create-superadmin", "Root@Example.com", "--password", "a strong one"]
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "root@example.com"))
    assert user.is_superadmin and user.is_verified
    assert check_password_hash(user.password_hash, "a strong one")
    assert "a strong one" not in result.output


def test_create_superadmin_prompts_for_the_password(app, session):
    result = app.test_cli_runner().invoke(
        args=["users", "create-superadmin", "prompted@example.com"],
        input="typed password\ntyped password\n",
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "prompted@example.com"))
    assert check_password_hash(user.password_hash, "typed password")


def test_create_superadmin_promotes_an_existing_account(app, session):
    existing = UserFactory(email="member@example.com")
    result = app.test_cli_runner().invoke(
        args=["users", "create-superadmin", "member@example.com", "--password", "new password"]
    )
    assert result.exit_code == 0
    session.refresh(existing)
    assert existing.is_superadmin


def test_create_superadmin_refuses_bad_input(app, session):
    runner = app.test_cli_runner()
    short = runner.invoke(
        args=["users", "create-superadmin", "x@example.com", "--password", "short"]
    )
    bad_email = runner.invoke(
        args=["users", "create-superadmin", "nope", "--password", "long enough"]
    )
    assert short.exit_code != 0 and bad_email.exit_code != 0
    assert session.scalar(select(User).where(User.email == "x@example.com")) is None


def test_purge_forgets_only_expired_revocations(app, session):
    user = UserFactory()
    old = RevokedSession(
        id=uuid.uuid4(),
        user_id=user.id,
        revoked_at=utc_now() - timedelta(days=40),
        expires_at=utc_now() - timedelta(days=1),
    )
    fresh = RevokedSession(
        id=uuid.uuid4(),
        user_id=user.id,
        revoked_at=utc_now(),
        expires_at=utc_now() + timedelta(days=29),
    )
    session.add_all([old, fresh])
    session.commit()
    result = app.test_cli_runner().invoke(args=["tokens", "purge-revoked"])
    assert "purged 1" in result.output
    remaining = session.scalars(select(RevokedSession.id)).all()
    assert remaining == [fresh.id]
