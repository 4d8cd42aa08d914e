"""The outbox's header values and dead messages: a name with CR/LF in it still delivers with a
one-line subject; permanent failures and too many attempts mark a message dead, never to be
claimed again; `flask outbox status` counts and lists them without their bodies."""

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from jsonapi_server.models import OutboxMessage
from jsonapi_server.services import outbox
from jsonapi_server.times import utc_now

from .test_invite_flows import create_invite


def _messages(session):
    session.expire_all()
    return session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)).all()


def _due_now(session):
    session.execute(OutboxMessage.__table__.update().values(next_attempt_at=utc_now()))
    session.commit()


def test_a_name_with_cr_lf_still_delivers_with_a_one_line_subject(
    api, client, login, user, session, inbox, deliver
):
    # Names are refused with line breaks now; one stored before that still delivers.
    org = api.create_organization(user, name="Acme")
    session.execute(
        sa.text("UPDATE organizations SET name = :name WHERE id = :id"),
        {"name": "Acme\r\nBcc: evil@example.com", "id": org["id"]},
    )
    session.commit()
    create_invite(client, login, user, org)
    assert deliver() == 1
    [message] = inbox
    assert message["To"] == "guest@example.com"
    assert message["Bcc"] is None
    assert message["Subject"] == "You are invited to join Acme Bcc: evil@example.com"
    [row] = _messages(session)
    assert row.sent_at is not None and row.dead_at is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Acme\r\nBcc: x@y", "Acme Bcc: x@y"),
        ("a\tb\x00c\x7fd\u2028e", "a b c d e"),
        ("  plain  name ", "plain name"),
    ],
)
def test_one_line(value, expected):
    assert outbox.one_line(value) == expected


def test_a_permanent_failure_marks_the_message_dead_at_once(
    client, login, user, api, session, smtp_server, inbox, deliver, monkeypatch
):
    org = api.create_organization(user)
    create_invite(client, login, user, org)

    async def reject(server, session, envelope):
        return "554 5.7.1 message refused"

    monkeypatch.setattr(smtp_server.inbox, "handle_DATA", reject)
    assert deliver() == 0
    [row] = _messages(session)
    assert row.attempts == 1 and row.sent_at is None and row.dead_at is not None
    assert "SMTPDataError" in row.last_error and "554" in row.last_error
    monkeypatch.undo()
    _due_now(session)
    assert deliver() == 0  # never claimed again
    [row] = _messages(session)
    assert row.attempts == 1 and inbox == []


def test_a_bad_header_is_permanent(session, inbox, deliver):
    # A row written before header values were cleaned: flask-mail refuses it every time.
    session.add(
        OutboxMessage(
            recipient="guest@example.com",
            subject="Acme\r\nBcc: evil@example.com",
            text_body="text",
            html_body="<p>html</p>",
        )
    )
    session.commit()
    assert deliver() == 0
    [message] = _messages(session)
    assert message.dead_at is not None and message.last_error.startswith("BadHeaderError")
    assert inbox == []


def test_a_transient_failure_is_retried_then_dead_after_the_bounded_attempts(
    app, client, login, user, api, session, smtp_server, inbox, deliver, monkeypatch
):
    org = api.create_organization(user)
    create_invite(client, login, user, org)
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 3)
    smtp_server.stop()
    try:
        for attempt in (1, 2):
            assert deliver() == 0
            [row] = _messages(session)
            assert row.attempts == attempt and row.dead_at is None
            assert row.next_attempt_at > row.created_at  # backed off, to be retried
            _due_now(session)
        assert deliver() == 0
        [row] = _messages(session)
        assert row.attempts == 3 and row.dead_at is not None and row.last_error
    finally:
        smtp_server.start()
    _due_now(session)
    assert deliver() == 0  # dead, even with SMTP back
    assert inbox == []


def test_outbox_status_counts_and_lists_the_dead_without_bodies(
    app, client, login, user, api, session, smtp_server, inbox, deliver, monkeypatch
):
    org = api.create_organization(user, name="Acme Corp")
    create_invite(client, login, user, org, "sent@example.com")
    assert deliver() == 1
    dead_invite = create_invite(client, login, user, org, "dead@example.com")

    async def reject(server, session, envelope):
        return "550 mailbox unavailable"

    monkeypatch.setattr(smtp_server.inbox, "handle_DATA", reject)
    assert deliver() == 0
    monkeypatch.undo()
    create_invite(client, login, user, org, "queued@example.com")
    result = app.test_cli_runner().invoke(args=["outbox", "status"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "queued 1, sent 1, dead 1"
    assert "To: dead@example.com" in lines
    assert "Subject: You are invited to join Acme Corp" in lines
    assert any(line.startswith("Attempts: 1; last error: SMTPDataError") for line in lines)
    assert "550" in result.output
    assert dead_invite["attributes"]["code"] not in result.output
    assert "sent@example.com" not in result.output and "queued@example.com" not in result.output
