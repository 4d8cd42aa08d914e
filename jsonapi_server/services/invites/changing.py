"""Changing a pending invite's role, and cancelling an invite."""

from jsonapi_server.db import fetch_one
from jsonapi_server.extensions import db
from jsonapi_server.models import OrganizationInvite

from .. import sync
from ..errors import Conflict
from .creating import cancel
from .reading import INVITE


def update_invite(
    user, invite_id, changes, *, organization_id=None, base=None, precondition=False, include=()
):
    _, invite = INVITE.instance(user, invite_id, organization_id, "invite.manage")
    attributes = (
        {"invite_user_as": changes["invite_user_as"]} if "invite_user_as" in changes else {}
    )
    if sync.write_needed(invite, base, attributes, precondition=precondition):
        if attributes and invite.status != "pending":
            raise Conflict("Only a pending invite can be changed.", code="invite_not_pending")
        sync.apply_changes(invite, attributes)
        db.session.commit()
    return fetch_one(OrganizationInvite, invite_id, include)


def cancel_invite(user, invite_id, *, organization_id=None, base=None) -> None:
    _, invite = INVITE.instance(user, invite_id, organization_id, "invite.manage")
    if invite.cancelled_at is not None:
        return  # cancelling again changes nothing
    if invite.accepted_at is not None:
        raise Conflict("An accepted invite cannot be cancelled.", code="invite_accepted")
    sync.check_precondition(invite, base)
    cancel(invite, user, sync.database_now())
    db.session.commit()
