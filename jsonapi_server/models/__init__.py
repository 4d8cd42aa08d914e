"""SQLAlchemy models and their constraints; no business rules."""

from .account_change import EmailChange, PasswordReset, TokenSession
from .invite import OrganizationInvite, OutboxMessage
from .organization import (
    ROLES,
    Channel,
    ChannelMember,
    DeletedRecord,
    DeletedRecordViewer,
    Membership,
    Organization,
)
from .user import RevokedSession, User

__all__ = [
    "ROLES",
    "Channel",
    "ChannelMember",
    "DeletedRecord",
    "DeletedRecordViewer",
    "EmailChange",
    "Membership",
    "Organization",
    "OrganizationInvite",
    "OutboxMessage",
    "PasswordReset",
    "RevokedSession",
    "TokenSession",
    "User",
]
