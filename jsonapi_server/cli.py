"""Command-line tasks: `flask users create-superadmin`, `flask tokens purge-revoked`,
`flask outbox run`, `flask outbox show`, `flask outbox status`."""

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from marshmallow import ValidationError, validate

from jsonapi_server.times import format_timestamp

from .services import accounts, outbox, tokens

users_cli = AppGroup("users", help="Manage accounts.")
tokens_cli = AppGroup("tokens", help="Manage token sessions.")
outbox_cli = AppGroup("outbox", help="Deliver queued email.")


@users_cli.command("create-superadmin")
@click.argument("email")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="The account's password (asked for when left out).",
)
def create_superadmin(email: str, password: str) -> None:
    """Create a superadmin account (or make an existing account one)."""
    try:
        validate.Email()(email)
        validate.Length(min=8, max=128)(password)
    except ValidationError as error:
        raise click.BadParameter(" ".join(error.messages)) from error
    user = accounts.create_superadmin(email, password)
    click.echo(f"superadmin {user.email} ({user.id})")


@tokens_cli.command("purge-revoked")
def purge_revoked() -> None:
    """Forget revocations of sessions that have expired by themselves."""
    click.echo(f"purged {tokens.purge_expired_revocations()} revoked sessions")


@outbox_cli.command("run")
@click.option("--once", is_flag=True, help="Make one delivery pass and stop.")
@click.option("--poll", type=float, default=None, help="Seconds between passes when idle.")
def run_outbox(once: bool, poll: float | None) -> None:
    """Deliver queued email, in a loop (several workers may run at once)."""
    outbox.run_worker(once=once, poll_seconds=poll)


def _delivery(message) -> str:
    if message.sent_at is not None:
        return f"sent {format_timestamp(message.sent_at)}"
    if message.dead_at is not None:
        return f"dead {format_timestamp(message.dead_at)} after {message.attempts} attempts"
    state = f"not sent yet, next attempt {format_timestamp(message.next_attempt_at)}"
    if message.last_error:
        state += f" (attempt {message.attempts} failed: {message.last_error})"
    return state


@outbox_cli.command("show")
@click.option("--last", type=click.IntRange(min=1), default=10, show_default=True, help="How many.")
def show_outbox(last: int) -> None:
    """Print the newest queued and sent emails, oldest first: recipient, subject, delivery
    and text body (in production the body is withheld: it may hold a live invite code)."""
    production = current_app.config["JSONAPI_SERVER_ENV"] == "production"
    messages = outbox.recent(last)
    if not messages:
        click.echo("The outbox is empty.")
    for message in messages:
        click.echo(f"--- {message.id}")
        click.echo(f"To: {message.recipient}")
        click.echo(f"Subject: {message.subject}")
        click.echo(f"Queued: {format_timestamp(message.created_at)}; {_delivery(message)}")
        click.echo("")
        if production:
            click.echo("(body withheld in production)")
        else:
            click.echo(message.text_body.rstrip("\n"))
        click.echo("")


@outbox_cli.command("status")
@click.option(
    "--last", type=click.IntRange(min=1), default=20, show_default=True, help="Dead ones shown."
)
def outbox_status(last: int) -> None:
    """Print how many emails are queued, sent and dead, and the newest dead ones: recipient,
    subject and last error (never the body: it may hold a live invite code)."""
    counts = outbox.status_counts()
    click.echo(f"queued {counts['queued']}, sent {counts['sent']}, dead {counts['dead']}")
    for message in outbox.dead(last):
        click.echo(f"--- {message.id} dead {format_timestamp(message.dead_at)}")
        click.echo(f"To: {message.recipient}")
        click.echo(f"Subject: {message.subject}")
        click.echo(f"Attempts: {message.attempts}; last error: {message.last_error}")


def init_app(app: Flask) -> None:
    for group in (users_cli, tokens_cli, outbox_cli):
        app.cli.add_command(group)
