"""The permission table, walked whole: every role against every organization endpoint.
A stranger learns nothing (404); a member without the role is refused (403)."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy import func

from jsonapi_server.models import OrganizationInvite

from .factories import UserFactory

ROLES = ["owner", "admin", "member", "superadmin", "stranger"]
OK, FORBIDDEN, NOT_FOUND = "ok", 403, 404


def allowed_for(*roles):
    return {
        role: (OK if role in roles else (NOT_FOUND if role == "stranger" else FORBIDDEN))
        for role in ROLES
    }


EVERYONE_IN = allowed_for("owner", "admin", "member", "superadmin")
ADMINS = allowed_for("owner", "admin", "superadmin")
OWNER = allowed_for("owner", "superadmin")

# endpoint name -> what each role gets
TABLE = {
    "read organization": EVERYONE_IN,
    "update organization": ADMINS,
    "delete organization": OWNER,
    "list memberships": EVERYONE_IN,
    "read membership": EVERYONE_IN,
    "add member": ADMINS,
    "change a member's role": ADMINS,
    "remove a member": ADMINS,
    "list member users": EVERYONE_IN,
    "list channels": EVERYONE_IN,
    "read channel": EVERYONE_IN,
    "create channel": EVERYONE_IN,
    "update a channel one does not own": ADMINS,
    "delete channel": ADMINS,
    "add someone else to a channel": ADMINS,
    "list channel members": EVERYONE_IN,
    "list invites": ADMINS,
    "read invite": ADMINS,
    "change invite": ADMINS,
    "cancel invite": ADMINS,
    "resend invite": ADMINS,
    "invite someone": ADMINS,
}


@pytest.fixture
def world(api, client, login, session):
    people = {role: UserFactory() for role in ROLES}
    people["superadmin"].is_superadmin = True
    session.commit()
    organization = api.create_organization(people["owner"])
    org_id = organization["id"]
    api.add_member(org_id, people["owner"], people["admin"], "admin")
    api.add_member(org_id, people["owner"], people["member"], "member")
    bob = UserFactory()
    bob_membership = api.add_member(org_id, people["owner"], bob, "member")
    newcomer = UserFactory()
    channel = api.create_channel(org_id, people["owner"], name="owned-by-owner")
    body = {"data": {"type": "organization_invites", "attributes": {"recipient_email": "g@x.io"}}}
    invite = client.send(
        "POST", f"/api/v2/organizations/{org_id}/invites", body, headers=login(people["owner"])
    ).json["data"]
    # Sent long enough ago that a resend is not refused as too soon.
    session.execute(
        sa.update(OrganizationInvite).values(last_sent_at=func.now() - sa.text("interval '1 hour'"))
    )
    session.commit()
    return {
        "invite": invite["id"],
        "people": people,
        "org": org_id,
        "bob": bob,
        "bob_membership": bob_membership["id"],
        "newcomer": newcomer,
        "channel": channel["id"],
    }


def identifier(user):
    return {"type": "users", "id": str(user.id)}


def request_for(endpoint: str, world: dict):
    org = f"/api/v2/organizations/{world['org']}"
    membership = f"{org}/memberships/{world['bob_membership']}"
    channel = f"{org}/channels/{world['channel']}"
    invite = f"{org}/invites/{world['invite']}"
    return {
        "list invites": ("GET", f"{org}/invites", None),
        "read invite": ("GET", invite, None),
        "change invite": (
            "PATCH",
            invite,
            {"data": {"type": "organization_invites", "attributes": {"invite_user_as": "admin"}}},
        ),
        "cancel invite": ("DELETE", invite, None),
        "resend invite": ("PUT", f"{invite}/resend", None),
        "invite someone": (
            "POST",
            f"{org}/invites",
            {"data": {"type": "organization_invites", "attributes": {"recipient_email": "n@x.io"}}},
        ),
        "read organization": ("GET", org, None),
        "update organization": (
            "PATCH",
            org,
            {"data": {"type": "organizations", "id": world["org"], "attributes": {"name": "New"}}},
        ),
        "delete organization": ("DELETE", org, None),
        "list memberships": ("GET", f"{org}/memberships", None),
        "read membership": ("GET", membership, None),
        "add member": (
            "POST",
            f"{org}/memberships",
            {
                "data": {
                    "type": "memberships",
                    "relationships": {"user": {"data": identifier(world["newcomer"])}},
                }
            },
        ),
        "change a member's role": (
            "PATCH",
            membership,
            {"data": {"type": "memberships", "attributes": {"role": "admin"}}},
        ),
        "remove a member": ("DELETE", membership, None),
        "list member users": ("GET", f"{org}/users", None),
        "list channels": ("GET", f"{org}/channels", None),
        "read channel": ("GET", channel, None),
        "create channel": (
            "POST",
            f"{org}/channels",
            {"data": {"type": "channels", "attributes": {"name": "new-one"}}},
        ),
        "update a channel one does not own": (
            "PATCH",
            channel,
            {"data": {"type": "channels", "attributes": {"description": "changed"}}},
        ),
        "delete channel": ("DELETE", channel, None),
        "add someone else to a channel": (
            "POST",
            f"{channel}/relationships/members",
            {"data": [identifier(world["bob"])]},
        ),
        "list channel members": ("GET", f"{channel}/relationships/members", None),
    }[endpoint]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(TABLE))
def test_permission_table(client, login, world, endpoint, role):
    method, url, body = request_for(endpoint, world)
    headers = login(world["people"][role])
    response = client.send(method, url, body, headers=headers)
    expected = TABLE[endpoint][role]
    if expected == OK:
        assert response.status_code < 300, (endpoint, role, response.status_code, response.json)
    else:
        assert response.status_code == expected, (endpoint, role, response.get_json())


# The rights of these resources as their services declare them, held here as one table: a
# change to any role an action needs is a change to this test too (a new resource's test holds
# its own).
EXPECTED_RIGHTS = {
    "organization.read": "member",
    "organization.update": "admin",
    "organization.delete": "owner",
    "membership.read": "member",
    "membership.create": "admin",
    "membership.update": "admin",
    "membership.remove": "admin",
    "channel.read": "member",
    "channel.create": "member",
    "channel.update": "admin",
    "channel.delete": "admin",
    "channel.manage_members": "admin",
    "invite.read": "admin",
    "invite.manage": "admin",
}


ACTION = re.compile(r"^[a-z_]+\.[a-z_]+$")


def actions_named_in_services() -> set[str]:
    """Every `"<resource>.<action>"` string a service passes to a permission check."""
    import ast
    from pathlib import Path

    import jsonapi_server.services as services

    checks = {
        "require_right",
        "require",
        "can",
        "instance",  # OneWithRole's, for a write
    }
    found = set()
    for path in Path(services.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name == "OneWithRole":  # its records are read with the resource's read right
                found.add(f"{node.args[0].value}.read")  # type: ignore[attr-defined]
            if name in checks:
                found.update(
                    argument.value
                    for argument in node.args
                    if isinstance(argument, ast.Constant)
                    and isinstance(argument.value, str)
                    and ACTION.match(argument.value)
                )
    return found


def test_every_action_a_service_checks_is_declared_with_its_role(app):
    from jsonapi_server.services.permissions import REQUIRED_ROLE

    pinned = {action.split(".")[0] for action in EXPECTED_RIGHTS}
    assert {
        action: role for action, role in REQUIRED_ROLE.items() if action.split(".")[0] in pinned
    } == EXPECTED_RIGHTS
    assert actions_named_in_services() == set(REQUIRED_ROLE)


def test_a_right_declared_twice_or_with_an_unknown_role_is_refused():
    from jsonapi_server.services.permissions import declare_rights

    with pytest.raises(ValueError, match="declared twice"):
        declare_rights("channel", read="member")
    with pytest.raises(ValueError, match="none of"):
        declare_rights("teams", read="guest")
