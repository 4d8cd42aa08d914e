"""The mail outbox: emails are written in the transaction of the change that causes them, so
none is sent for a change that did not commit, and delivered by workers (`flask outbox run`)
that retry with backoff and claim rows with FOR UPDATE SKIP LOCKED, so none is sent twice."""

import logging
import os
import re
import smtplib
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_mail import BadHeaderError, Message
from sqlalchemy import func, insert, select

from jsonapi_server.extensions import db, mail
from jsonapi_server.models import OutboxMessage
from jsonapi_server.times import utc_now

log = logging.getLogger(__name__)

# Control characters (CR and LF among them) and Unicode line breaks: a header value is one line.
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(value: str) -> str:
    """A header value as one line: each run of control characters becomes one space (a name
    with CR/LF in it would otherwise make every attempt a BadHeaderError, or add headers)."""
    return " ".join(_NOT_ONE_LINE.sub(" ", value).split())


def email(recipient: str, subject: str, template: str, **context) -> dict[str, Any]:
    """An outbox row: `templates/email/<template>.txt/.html` rendered with `context`."""
    templates = current_app.jinja_env.get_template
    now = utc_now()
    return {
        "id": uuid.uuid4(),
        "recipient": one_line(recipient),
        "subject": one_line(subject)[:255],
        # The app's template environment (its loader, and autoescaping for .html) renders
        # the context alone: emails read no request, session or g, which Flask's
        # render_template gathers for every render, and sends its signals.
        "text_body": templates(f"email/{template}.txt").render(context),
        "html_body": templates(f"email/{template}.html").render(context),
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
    }


def queue_emails(emails: Sequence[Mapping[str, Any]]) -> None:
    """Add rows made by email() to the outbox in one Core INSERT (no ORM unit of work), in the
    caller's transaction, which commits them with the change they belong to."""
    if emails:
        db.session.execute(insert(OutboxMessage.__table__), list(emails))


def backoff(attempts: int) -> timedelta:
    """30 s, 60 s, 2 min, ... up to OUTBOX_MAX_BACKOFF_SECONDS."""
    seconds = min(30 * 2 ** max(attempts - 1, 0), current_app.config["OUTBOX_MAX_BACKOFF_SECONDS"])
    return timedelta(seconds=seconds)


def _mail(message: OutboxMessage) -> Message:
    return Message(
        subject=message.subject,
        recipients=[message.recipient],
        body=message.text_body,
        html=message.html_body,
    )


def mail_folder() -> Path:
    """Where development without MAIL_SERVER keeps the mail it would have sent."""
    return Path(current_app.instance_path) / "mail"


def _keep_in_mail_folder(message: OutboxMessage) -> Path:
    """Development without SMTP: the message as it would have gone out, one .eml file each
    (named by time, so a listing is in order), written whole or not at all."""
    folder = mail_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{message.created_at:%Y%m%dT%H%M%S.%f}-{message.id}.eml"
    partial = path.with_suffix(".partial")
    partial.write_bytes(_mail(message).as_bytes())
    os.replace(partial, path)
    return path


def _send(message: OutboxMessage) -> None:
    if not current_app.config.get("MAIL_SERVER"):
        if current_app.config["JSONAPI_SERVER_ENV"] == "production":
            raise RuntimeError("MAIL_SERVER is not set")
        path = _keep_in_mail_folder(message)
        # The file, not the body: an invitation's body holds its code, and codes never
        # reach the log.
        log.info("mail to %s not sent (no MAIL_SERVER): written to %s", message.recipient, path)
        return
    mail.send(_mail(message))


def recent(last: int) -> list[OutboxMessage]:
    """The newest `last` messages, sent or not, oldest first (`flask outbox show`)."""
    newest = db.session.scalars(
        select(OutboxMessage)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(last)
    ).all()
    return list(reversed(newest))


def is_permanent(error: Exception) -> bool:
    """Whether retrying cannot help: a header the mail library refuses, or an SMTP 5xx (for
    the sender, the data or every recipient). Connection errors and 4xx are worth a retry."""
    if isinstance(error, BadHeaderError | UnicodeError):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 500 <= error.smtp_code < 600
    return False


def status_counts() -> dict[str, int]:
    """How many messages are queued (to be tried), sent and dead."""
    rows = db.session.execute(
        select(
            func.count().filter(OutboxMessage.sent_at.is_not(None)),
            func.count().filter(OutboxMessage.dead_at.is_not(None)),
            func.count().filter(OutboxMessage.sent_at.is_(None), OutboxMessage.dead_at.is_(None)),
        )
    ).one()
    return {"queued": rows[2], "sent": rows[0], "dead": rows[1]}


def dead(last: int) -> list[OutboxMessage]:
    """The `last` messages most recently marked dead, newest first."""
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.dead_at.is_not(None))
            .order_by(OutboxMessage.dead_at.desc(), OutboxMessage.id)
            .limit(last)
        )
    )


def _failed(message: OutboxMessage, error: Exception) -> None:
    """A failed attempt: retried later, unless it cannot succeed or was tried
    OUTBOX_MAX_ATTEMPTS times; then it is dead, kept with its last error, never claimed again."""
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    if is_permanent(error) or message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        message.dead_at = utc_now()
        log.error(
            "mail to outbox message %s is dead after %s attempts: %s",
            message.id,
            message.attempts,
            type(error).__name__,
        )
        return
    message.next_attempt_at = utc_now() + backoff(message.attempts)
    log.warning(
        "mail to outbox message %s failed (attempt %s): %s",
        message.id,
        message.attempts,
        type(error).__name__,
    )


def deliver_due() -> int:
    """One pass: claim due messages (skipping those another worker holds), send each, record
    the outcome. Returns how many were sent."""
    now = utc_now()
    statement = (
        select(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.dead_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
        )
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
            _failed(message, error)
        else:
            message.sent_at = utc_now()
            message.last_error = None
            # The outbox is a queue, not an archive: a sent body (a reset token, a code) goes.
            # Development keeps it, as its mail folder does, for `flask outbox show`.
            if current_app.config.get("MAIL_SERVER"):
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
