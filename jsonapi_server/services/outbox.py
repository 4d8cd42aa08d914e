"""The mail outbox: emails are written in the transaction of the change that causes them and
delivered by workers (`flask outbox run`); failures are retried with exponential backoff, and
several workers never send one email twice (rows are claimed with FOR UPDATE SKIP LOCKED)."""

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_mail import Message
from sqlalchemy import insert, select

from jsonapi_server.extensions import db, mail
from jsonapi_server.jsonapi.timestamps import utc_now
from jsonapi_server.models import OutboxMessage

log = logging.getLogger(__name__)


def email(recipient: str, subject: str, template: str, **context) -> dict[str, Any]:
    """An outbox row: `templates/email/<template>.txt/.html` rendered with `context`."""
    templates = current_app.jinja_env.get_template
    now = utc_now()
    return {
        "id": uuid.uuid4(),
        "recipient": recipient,
        "subject": subject,
        # The app's template environment (its loader, and autoescaping for .html) renders
        # the context alone: emails read no request, session or g, which Flask's
        # render_template gathers for every render, and sends its signals (W3 -1.4 %).
        "text_body": templates(f"email/{template}.txt").render(context),
        "html_body": templates(f"email/{template}.html").render(context),
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
    }


def queue_emails(emails: Sequence[Mapping[str, Any]]) -> None:
    """Add rows made by email() to the outbox, in one INSERT in the caller's transaction,
    which commits them with the change they belong to (a Core INSERT of the table, as
    invites._write_invites writes invites, for the same reason)."""
    if emails:
        db.session.execute(insert(OutboxMessage.__table__), list(emails))


def backoff(attempts: int) -> timedelta:
    """30 s, 60 s, 2 min, ... up to OUTBOX_MAX_BACKOFF_SECONDS."""
    seconds = min(30 * 2 ** max(attempts - 1, 0), current_app.config["OUTBOX_MAX_BACKOFF_SECONDS"])
    return timedelta(seconds=seconds)


def _send(message: OutboxMessage) -> None:
    if not current_app.config.get("MAIL_SERVER"):
        if current_app.config["JSONAPI_SERVER_ENV"] == "production":
            raise RuntimeError("MAIL_SERVER is not set")
        # Development without SMTP: the mail is shown in the log instead of sent.
        log.info(
            "mail (not sent: no MAIL_SERVER) to=%s subject=%s\n%s",
            message.recipient,
            message.subject,
            message.text_body,
        )
        return
    mail.send(
        Message(
            subject=message.subject,
            recipients=[message.recipient],
            body=message.text_body,
            html=message.html_body,
        )
    )


def deliver_due(now: datetime | None = None) -> int:
    """One pass: claim due messages (skipping those another worker holds), send each, record
    the outcome. Returns how many were sent."""
    now = now or utc_now()
    statement = (
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(current_app.config["OUTBOX_BATCH_SIZE"])
    )
    if db.session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    sent = 0
    for message in db.session.scalars(statement).all():
        message.attempts += 1
        try:
            _send(message)
        except Exception as error:
            message.last_error = f"{type(error).__name__}: {error}"[:2000]
            message.next_attempt_at = utc_now() + backoff(message.attempts)
            log.warning(
                "mail to outbox message %s failed (attempt %s): %s",
                message.id,
                message.attempts,
                type(error).__name__,
            )
        else:
            message.sent_at = utc_now()
            message.last_error = None
            # The outbox is a queue, not an archive: a sent body (a reset token, a code) goes.
            message.text_body = message.html_body = ""
            sent += 1
    db.session.commit()
    return sent


def run_worker(*, once: bool = False, poll_seconds: float | None = None) -> None:
    poll = poll_seconds if poll_seconds is not None else current_app.config["OUTBOX_POLL_SECONDS"]
    while True:
        sent = deliver_due()
        if once:
            return
        if not sent:
            time.sleep(poll)
