"""Command-line tasks: `flask users create-superadmin`, `flask tokens purge-revoked`,
`flask outbox run`."""

import click
from flask import Flask
from flask.cli import AppGroup
from marshmallow import ValidationError, validate

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


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(outbox_cli)
