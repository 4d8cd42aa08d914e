"""SQLAlchemy models and their constraints; no business rules."""

from .user import RevokedSession, User

__all__ = ["RevokedSession", "User"]
