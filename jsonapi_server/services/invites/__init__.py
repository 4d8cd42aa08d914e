"""Organization invites, one module for each stage of an invite's life: pending -> accepted |
cancelled | expired. Accepting needs the code and the recipient's own account; every (re)send
queues its email in the invite's own transaction."""

from .accepting import accept_invite, register_with_invite, verify_code
from .changing import cancel_invite, update_invite
from .creating import create_invite, invite_batch
from .reading import INVITE_LISTING, get_invite, list_invites
from .sending import resend_invite

__all__ = [
    "INVITE_LISTING",
    "accept_invite",
    "cancel_invite",
    "create_invite",
    "get_invite",
    "invite_batch",
    "list_invites",
    "register_with_invite",
    "resend_invite",
    "update_invite",
    "verify_code",
]
