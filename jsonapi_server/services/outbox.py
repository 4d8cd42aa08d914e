"""The mail outbox: emails are written in the transaction of the change that causes them and
delivered by workers (`flask outbox run`); failures are retried with exponential backoff, and
several workers never send one email twice (rows are claimed with FOR UPDATE SKIP LOCKED)."""

import logging
import time
from datetime import datetime, timedelta

from flask import current_app
from flask_mail import Message
from sqlalchemy import select

from jsonapi_server.extensions import db, mail
from jsonapi_server.jsonapi.timestamps import utc_now
from jsonapi_server.models import OutboxMessage

log = logging.getLogger(__name__)


def queue_email(recipient: str, subject: str, template: str, **context) -> OutboxMessage:
    """Render `templates/email/<template>.txt/.html` and add it to the outbox (the caller's
    transaction commits it with the change it belongs to)."""
    templates = current_app.jinja_env.get_template
    message = OutboxMessage(
        recipient=recipient,
        subject=subject,
        # The app's template environment (its loader, and autoescaping for .html) renders
        # the context alone: emails read no request, session or g, which Flask's
        # render_template gathers for every render, and sends its signals (W3 -1.4 %).
        text_body=templates(f"email/{template}.txt").render(context),
        html_body=templates(f"email/{template}.html").render(context),
        next_attempt_at=utc_now(),
        attempts=0,
    )
    db.session.add(message)
    return message


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
