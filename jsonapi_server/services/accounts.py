"""Accounts: registration, sign-in, profiles and who may see whom."""

import re
import uuid
from functools import cache

from flask import current_app
from sqlalchemy import func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from jsonapi_server.db import Filter, Listing, parse_text
from jsonapi_server.extensions import db
from jsonapi_server.models import Membership, User

from .errors import Conflict, Invalid, NotFound, Unauthenticated
from .sync import committing

_UNHASHABLE = re.compile("[\x00\ud800-\udfff]")
PROFILE_FIELDS = ("email", "first_name", "last_name", "username", "phone", "avatar_url")

USER_LISTING = Listing(
    sorts={
        "created_at": User.created_at,
        "updated_at": User.updated_at,
        "email": User.email,
        "first_name": func.lower(User.first_name),
        "last_name": func.lower(User.last_name),
    },
    id_column=User.id,
    filters_by_name={
        "email": Filter(
            lambda raw: parse_text(raw).lower(),
            lambda statement, email: statement.where(User.email == email),
        ),
    },
)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hashable_password(password: str) -> bool:
    """HMAC pads a key with NUL bytes, so "pw" and "pw" + NUL would hash alike; an unpaired
    surrogate has no UTF-8 to hash. A password holding either opens nothing."""
    return _UNHASHABLE.search(password) is None


def hash_password(password: str) -> str:
    if not hashable_password(password):
        raise Invalid(
            "A password may not hold NUL or unpaired surrogates.",
            pointer="/data/attributes/password",
        )
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@cache
def _decoy_hash(method: str) -> str:
    return generate_password_hash("decoy password, never matches", method=method)


def email_taken() -> Conflict:
    return Conflict(
        "An account with this email exists.", code="email_taken", pointer="/data/attributes/email"
    )


def ensure_email_free(email: str, exclude: User | None = None) -> None:
    """409 when another account has this (normalized) address; the unique index decides races."""
    taken = db.session.scalar(select(User.id).where(User.email == email))
    if taken is not None and (exclude is None or taken != exclude.id):
        raise email_taken()


def _ensure_username_free(username: str | None, exclude: User | None = None) -> None:
    if not username:
        return
    taken = db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
    if taken is not None and (exclude is None or taken != exclude.id):
        raise Conflict(
            "This username is taken.", code="username_taken", pointer="/data/attributes/username"
        )


def _taken() -> Conflict:
    """A unique index that fired under a concurrent write: the same 409 as the check's."""
    return Conflict("An account with this email or username exists.", code="taken")


def new_user(*, email: str, password: str, is_verified: bool = False, **profile) -> User:
    """An account added to the session, not yet committed; email and username must be free."""
    email = normalize_email(email)
    ensure_email_free(email)
    _ensure_username_free(profile.get("username"))
    user = User(
        email=email,
        password_hash=hash_password(password),
        is_verified=is_verified,
        is_superadmin=False,
        **{name: value for name, value in profile.items() if name in PROFILE_FIELDS},
    )
    if user.avatar_url == "":
        user.avatar_url = None
    db.session.add(user)
    return user


def register_user(*, email: str, password: str, **profile: str | None) -> User:
    """Create an account; the email (stored lower-case) and username must be free."""
    with committing(_taken()):
        user = new_user(email=email, password=password, is_verified=False, **profile)
    return user


def authenticate(email: str, password: str) -> User:
    """The account these credentials open; the same refusal for a wrong email or password."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if not hashable_password(password):
        password = ""  # checked against the decoy below: never matches, costs the same time
        user = None
    if user is None:
        # Spend the same time as a real check, so timing does not reveal which accounts exist.
        check_password_hash(_decoy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        raise Unauthenticated("The email or password is wrong.")
    if not check_password_hash(user.password_hash, password):
        raise Unauthenticated("The email or password is wrong.")
    return user


def visible_users(viewer: User):
    """Users `viewer` may see: themselves and those they share an organization with
    (a superadmin: everyone)."""
    statement = select(User)
    if viewer.is_superadmin:
        return statement
    my_organizations = select(Membership.organization_id).where(
        Membership.user_id == viewer.id, Membership.removed_at.is_(None)
    )
    co_members = select(Membership.user_id).where(
        Membership.organization_id.in_(my_organizations), Membership.removed_at.is_(None)
    )
    return statement.where(or_(User.id == viewer.id, User.id.in_(co_members)))


def private_fields_visible(viewer_id: uuid.UUID, viewer_is_superadmin: bool):
    """Whose private attributes (is_superadmin) a viewer may see, as a test of a user: their
    own, and a superadmin everyone's."""
    if viewer_is_superadmin:
        return lambda _user: True
    return lambda user: user.id == viewer_id


def get_user(viewer: User, user_id: uuid.UUID) -> User:
    """A user the viewer may see; others are not found (their existence is not revealed)."""
    if user_id == viewer.id:
        return viewer
    user = db.session.scalar(visible_users(viewer).where(User.id == user_id))
    if user is None:
        raise NotFound("No such user.")
    return user


def list_users(viewer: User, query):
    return USER_LISTING.fetch(visible_users(viewer), query)


def own_account(caller: User) -> User:
    """The caller's own row, locked, for a change to it: the caller as authenticated is a
    record, which is only read."""
    user = db.session.get(User, caller.id, with_for_update=True, populate_existing=True)
    assert user is not None  # the token's account exists: authentication read it
    return user


def update_profile(caller: User, changes: dict) -> User:
    """Change the caller's own profile (not its email: services.email_changes)."""
    user = own_account(caller)
    changes = {name: value for name, value in changes.items() if name in PROFILE_FIELDS}
    # Clients send the whole resource back: the address as it is changes nothing.
    if "email" in changes and normalize_email(changes.pop("email")) != user.email:
        raise Invalid(
            "The email changes only once the new address is proven: request it with"
            " POST /api/v2/email-changes and confirm the code mailed there.",
            code="email_change_required",
            pointer="/data/attributes/email",
        )
    _ensure_username_free(changes.get("username"), exclude=user)
    if changes.get("avatar_url") == "":
        changes["avatar_url"] = None
    with committing(_taken()):
        for name, value in changes.items():
            setattr(user, name, value)
    return user


def clear_avatar(caller: User) -> User:
    user = own_account(caller)
    user.avatar_url = None
    db.session.commit()
    return user


def create_superadmin(email: str, password: str) -> User:
    """Create a superadmin, or make an existing account one (setting the given password)."""
    email = normalize_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, is_verified=True)
        db.session.add(user)
    user.password_hash = hash_password(password)
    user.is_superadmin = True
    db.session.commit()
    return user
