"""Mail in development: without MAIL_SERVER the outbox worker keeps each message as an .eml
file in the instance folder's mail/ (never in production), `flask outbox show` prints the
newest messages, and JSONAPI_SERVER_INSTANCE_PATH puts the instance folder anywhere."""

import email
import email.policy
import logging
import re
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import select

from jsonapi_server import create_app
from jsonapi_server.config import INSTANCE_PATH_VARIABLE, instance_path
from jsonapi_server.extensions import db
from jsonapi_server.models import OutboxMessage
from jsonapi_server.services import outbox

from .conftest import TEST_SETTINGS
from .served import free_port

JSONAPI = {"Content-Type": "application/vnd.api+json"}
LINK = re.compile(r"/invites/([0-9a-f-]{36})/accept\?code=([0-9a-f]{64})")


def sqlite_app(folder, monkeypatch, **settings):
    """An application on SQLite whose instance folder is `folder`, its tables migrated."""
    monkeypatch.setenv(INSTANCE_PATH_VARIABLE, str(folder))
    application = create_app(
        {
            **TEST_SETTINGS,
            "TESTING": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'test.sqlite3'}",
            **settings,
        }
    )
    with application.app_context():
        flask_migrate.upgrade()
    return application


@pytest.fixture
def development(tmp_path, monkeypatch):
    application = sqlite_app(tmp_path / "instance", monkeypatch)
    yield application
    with application.app_context():
        db.engine.dispose()


def invite(application, recipient="bob@example.com") -> dict:
    """Register an owner, create an organization and invite `recipient`, through the API."""
    client = application.test_client()
    owner = f"owner-{recipient}"
    registered = client.post(
        "/api/v2/users",
        json={"data": {"type": "users", "attributes": {"email": owner, "password": "long enough"}}},
        headers=JSONAPI,
    )
    auth = {**JSONAPI, "Authorization": f"Bearer {registered.json['meta']['access_token']}"}
    organization = client.post(
        "/api/v2/organizations",
        json={"data": {"type": "organizations", "attributes": {"name": "Acme"}}},
        headers=auth,
    ).json["data"]
    created = client.post(
        f"/api/v2/organizations/{organization['id']}/invites",
        json={
            "data": {"type": "organization_invites", "attributes": {"recipient_email": recipient}}
        },
        headers=auth,
    )
    assert created.status_code == 201, created.json
    return created.json["data"]


def deliver(application) -> int:
    with application.app_context():
        return outbox.deliver_due()


def mail_files(application) -> list:
    folder = Path(application.instance_path) / "mail"
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def show(application, *arguments):
    result = application.test_cli_runner().invoke(args=["outbox", "show", *arguments])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_instance_folder_setting_moves_database_key_and_mail(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(INSTANCE_PATH_VARIABLE, "elsewhere")  # relative: made absolute
    application = create_app({"JWT_SECRET_KEY": None})
    assert application.instance_path == str(tmp_path / "elsewhere")
    assert application.config["SQLALCHEMY_DATABASE_URI"] == (
        f"sqlite:///{tmp_path / 'elsewhere' / 'jsonapi_server.sqlite3'}"
    )
    assert (tmp_path / "elsewhere" / "jwt-secret").read_text().strip()
    with application.app_context():
        assert outbox.mail_folder() == tmp_path / "elsewhere" / "mail"
    assert instance_path({}) is None  # unset: Flask's own instance/ beside the package


def test_development_keeps_each_mail_as_an_eml_file(development, caplog):
    sent = invite(development)
    code = sent["attributes"]["code"]
    with caplog.at_level(logging.INFO, logger="jsonapi_server.services.outbox"):
        assert deliver(development) == 1
    [path] = mail_files(development)
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "bob@example.com"
    assert message["Subject"] == "You are invited to join Acme"
    assert message["From"] == development.config["MAIL_DEFAULT_SENDER"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert LINK.search(text).groups() == (sent["id"], code)
    assert message.get_body(preferencelist=("html",)) is not None
    with development.app_context():
        assert db.session.scalar(select(OutboxMessage.sent_at)) is not None
    # The log says where the mail went, and never holds its body (it carries the code).
    assert str(path) in caplog.text and "bob@example.com" in caplog.text
    assert code not in caplog.text
    assert deliver(development) == 0  # sent once: no second file
    assert len(mail_files(development)) == 1


def test_outbox_show_prints_the_newest_messages_oldest_first(development):
    assert show(development).strip() == "The outbox is empty."
    first = invite(development, "bob@example.com")
    second = invite(development, "carol@example.com")
    newest = show(development, "--last", "1")
    assert "To: carol@example.com" in newest and "bob@example.com" not in newest
    assert "Subject: You are invited to join Acme" in newest
    assert LINK.search(newest).groups() == (second["id"], second["attributes"]["code"])
    assert "not sent yet" in newest
    both = show(development, "--last", "2")
    assert both.index("To: bob@example.com") < both.index("To: carol@example.com")
    assert first["attributes"]["code"] in both
    assert deliver(development) == 2
    after = show(development)
    assert after.count("; sent ") == 2 and "not sent yet" not in after


def test_outbox_show_says_why_a_message_is_still_queued(tmp_path, monkeypatch):
    # An SMTP server where nothing listens: the send fails and the message waits.
    failing = sqlite_app(
        tmp_path / "instance", monkeypatch, MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port()
    )
    invite(failing)
    assert deliver(failing) == 0
    shown = show(failing)
    assert "not sent yet" in shown and "attempt 1 failed" in shown
    assert mail_files(failing) == []
    with failing.app_context():
        db.engine.dispose()


def test_outbox_show_takes_a_positive_count(development):
    result = development.test_cli_runner().invoke(args=["outbox", "show", "--last", "0"])
    assert result.exit_code != 0


@pytest.fixture
def production(tmp_path, monkeypatch, smtp_server):
    application = sqlite_app(
        tmp_path / "instance",
        monkeypatch,
        JSONAPI_SERVER_ENV="production",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_server.port,
        # what a production start refuses, allowed by name for this test of the outbox alone
        ALLOW_UNSAFE_SQLITE=True,
        ALLOW_UNSAFE_NO_RATE_LIMITS=True,
        ALLOW_UNSAFE_HOST_HEADER=True,
    )
    yield application
    with application.app_context():
        db.engine.dispose()


def test_production_sends_through_smtp_and_never_writes_mail_files(production, inbox):
    invite(production)
    assert deliver(production) == 1
    assert [m["To"] for m in inbox] == ["bob@example.com"]
    assert not (Path(production.instance_path) / "mail").exists()


def test_production_without_a_mail_server_keeps_the_mail_queued_not_in_a_file(production):
    invite(production)
    production.config["MAIL_SERVER"] = None  # (production refuses to start so: see hardening)
    assert deliver(production) == 0
    with production.app_context():
        [message] = db.session.scalars(select(OutboxMessage)).all()
        assert message.sent_at is None and "MAIL_SERVER is not set" in message.last_error
    assert not (Path(production.instance_path) / "mail").exists()


def test_development_with_a_mail_server_sends_and_writes_no_file(
    tmp_path, monkeypatch, smtp_server, inbox
):
    application = sqlite_app(
        tmp_path / "instance", monkeypatch, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port
    )
    invite(application)
    assert deliver(application) == 1
    assert [m["To"] for m in inbox] == ["bob@example.com"]
    assert mail_files(application) == []
    with application.app_context():
        db.engine.dispose()


def test_outbox_show_withholds_bodies_in_production(production):
    sent = invite(production)
    shown = show(production)
    assert "To: bob@example.com" in shown and "body withheld" in shown
    assert sent["attributes"]["code"] not in shown
