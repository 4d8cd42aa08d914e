"""SQLAlchemy models and their constraints; no business rules."""

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
    "Membership",
    "Organization",
    "RevokedSession",
    "User",
]
