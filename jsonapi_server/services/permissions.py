"""Who may do what in an organization: the roles each resource's service declares its actions
need (owner > admin > member; a superadmin everything) and the one check. To a stranger, the
organization and everything under it are not found, so nothing is learnt of them."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import aliased

from jsonapi_server.db import read_one
from jsonapi_server.extensions import db
from jsonapi_server.models import Membership, Organization, User

from .errors import Forbidden, NotFound

RANK = {"member": 1, "admin": 2, "owner": 3}

# "channel.update" -> "admin": filled by each service's declare_rights, beside its rules.
REQUIRED_ROLE: dict[str, str] = {}


def declare_rights(resource: str, **roles: str) -> None:
    """`declare_rights("channel", read="member", ...)`: the role each action on `resource`
    needs. An action declared twice, or a role RANK does not know, is refused at import."""
    for action, role in roles.items():
        name = f"{resource}.{action}"
        if name in REQUIRED_ROLE:
            raise ValueError(f"{name} is declared twice")
        if role not in RANK:
            raise ValueError(f"{name}: {role!r} is none of {', '.join(RANK)}")
        REQUIRED_ROLE[name] = role


@dataclass(frozen=True)
class Access:
    """What `user` is in an organization."""

    user: User
    role: str | None  # None: not a member (only a superadmin gets this far)

    def can(self, action: str) -> bool:
        """The one rule: a superadmin may do everything; a member what their role reaches."""
        if self.user.is_superadmin:
            return True
        return self.role is not None and RANK[self.role] >= RANK[REQUIRED_ROLE[action]]

    def require(self, action: str) -> "Access":
        if not self.can(action):
            raise Forbidden(f"Your role in this organization does not allow {action}.")
        return self


# The caller's own membership row, named apart from a memberships row it is read beside.
_CALLERS = aliased(Membership, name="callers_membership")


def caller_role(organization_id_column):
    """A correlated subquery: the caller's role in the organization a row belongs to, so a row
    and the right to see it come in one statement (built once: the caller is its `user_id`)."""
    return (
        select(_CALLERS.role)
        .where(
            _CALLERS.organization_id == organization_id_column,
            _CALLERS.user_id == bindparam("user_id"),
            _CALLERS.removed_at.is_(None),
        )
        .scalar_subquery()
    )


class OneWithRole:
    """How every single resource is read, for a GET and a write alike: the row by its id with,
    in the same statement (built once), the caller's role in its organization. A GET gets a
    record with its includes; a write the ORM instance, locked FOR UPDATE OF its own table
    unless asked not to. A stranger, or a row under another organization than the URL's: 404."""

    def __init__(self, resource: str, model: Any, organization_id_column: Any, not_found: str):
        self.resource = resource
        self.not_found = not_found
        self._organization_of = attrgetter(organization_id_column.key)
        self._by_id = select(model).where(model.id == bindparam("id"))
        self._role = (caller_role(organization_id_column).label("caller_role"),)
        self._for_check = self._by_id.add_columns(*self._role)
        self._for_write = self._for_check.with_for_update(of=model).execution_options(
            populate_existing=True
        )

    def record(self, user: User, resource_id, organization_id=None, include: Sequence[str] = ()):
        """The resource as a record, for `resource.read`, with what `include` adds."""
        found, role = read_one(
            self._by_id,
            {"id": resource_id, "user_id": user.id},
            include=include,
            columns=self._role,
        )
        access = self._checked(user, found, role, organization_id, f"{self.resource}.read")
        check_includes(access, include)
        return found

    def instance(
        self, user: User, resource_id, organization_id, action: str, *, lock: bool = True
    ) -> tuple[Access, Any]:
        """The caller's access, which has `action`'s right, and the ORM instance to change."""
        statement = self._for_write if lock else self._for_check
        row = db.session.execute(statement, {"id": resource_id, "user_id": user.id}).first()
        found, role = row if row is not None else (None, None)
        return self._checked(user, found, role, organization_id, action), found

    def _checked(self, user: User, found, role: str | None, organization_id, action: str) -> Access:
        if found is None or organization_id not in (None, self._organization_of(found)):
            raise NotFound(self.not_found)
        if role is None and not user.is_superadmin:  # a stranger learns nothing: 404, not 403
            raise NotFound(self.not_found)
        return Access(user=user, role=role).require(action)


# The caller's role in an organization that exists (no row: it does not), for checks that
# need the organization no more than that (its counts cost subqueries).
_ROLE_IN_ORGANIZATION = (
    select(Organization.id, Membership.role)
    .outerjoin(
        Membership,
        and_(
            Membership.organization_id == Organization.id,
            Membership.user_id == bindparam("user_id"),
            Membership.removed_at.is_(None),
        ),
    )
    .where(Organization.id == bindparam("organization_id"))
)


_KNOWN_ROLES = "known_roles"  # on a caller record: {organization id: role or None}
_UNKNOWN = object()


def remember_role(caller: Any, organization_id: uuid.UUID, role: str | None) -> None:
    """Keep the caller's role in an organization that exists, read with the caller (a record
    of a request that only reads), for require_right to use instead of a statement."""
    caller.__dict__.setdefault(_KNOWN_ROLES, {})[organization_id] = role


def member_ids(organization_id: uuid.UUID) -> Sequence[uuid.UUID]:
    """The organization's current members: who sees what is under it (a tombstone's viewers)."""
    return db.session.scalars(
        select(Membership.user_id).where(
            Membership.organization_id == organization_id, Membership.removed_at.is_(None)
        )
    ).all()


def includes_invites(include: Sequence[str]) -> bool:
    return any("invites" in path.split(".") for path in include)


def check_includes(access: Access, include: Sequence[str]) -> None:
    """Including invites, from whatever resource, needs the right to read them."""
    if includes_invites(include) and not access.can("invite.read"):
        raise Forbidden(
            "Only the organization's owner and admins see its invites.", parameter="include"
        )


def require_right(
    user: User, organization_id: uuid.UUID, action: str, *, include: Sequence[str] = ()
) -> None:
    """The caller's right to `action`, for listings and creates (which read no one row): their
    role is read without loading the organization, or not at all if remembered with the caller."""
    role = getattr(user, _KNOWN_ROLES, {}).get(organization_id, _UNKNOWN)
    if role is _UNKNOWN:
        parameters = {"user_id": user.id, "organization_id": organization_id}
        row = db.session.execute(_ROLE_IN_ORGANIZATION, parameters).first()
        if row is None:
            raise NotFound("No such organization.")
        role = row.role
    if role is None and not user.is_superadmin:
        raise NotFound("No such organization.")
    check_includes(Access(user=user, role=role).require(action), include)
