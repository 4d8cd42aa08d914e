"""Each test's writes vanish with its transaction."""

from sqlalchemy import func, select

from jsonapi_server.models import User

from .factories import UserFactory


def test_a_test_that_commits(session):
    UserFactory(email="isolation-probe@example.com")
    session.commit()
    assert session.scalar(select(func.count()).where(User.email == "isolation-probe@example.com"))


def test_the_next_test_finds_nothing(session):
    count = session.scalar(select(func.count()).where(User.email == "isolation-probe@example.com"))
    assert count == 0
