"""Documents read as plain records (db/records.py): to-one includes joined, each to-many step
one statement more; and listings' statements built once per shape of a scope (listing.Scope),
with each request's values as parameters."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import selectinload

from jsonapi_server.db import listing
from jsonapi_server.db.record_classes import record_class, record_of
from jsonapi_server.db.typecasters import StoredUUID
from jsonapi_server.extensions import db
from jsonapi_server.jsonapi.collection_query import Page, SortKey
from jsonapi_server.jsonapi.query import QueryParams
from jsonapi_server.models import (
    Channel,
    ChannelMember,
    Membership,
    Organization,
    OrganizationInvite,
    User,
)
from jsonapi_server.services import channels, invites, memberships, organizations
from jsonapi_server.services.errors import NotFound

from .development import sqlite_app_with_owner
from .factories import UserFactory

NEWEST_FIRST = (SortKey("created_at", True),)


def collection_query(*, size=25, include=()):
    """What a collection's service is given: the parsed query parameters of a page."""
    return QueryParams(include=include, sort=NEWEST_FIRST, page=Page(offset=0, size=size))


def invite_all(client, login, organization, actor, emails):
    for email in emails:
        body = {"data": {"type": "organization_invites", "attributes": {"recipient_email": email}}}
        response = client.send(
            "POST",
            f"/api/v2/organizations/{organization['id']}/invites",
            body,
            headers=login(actor),
        )
        assert response.status_code == 201, response.json


def listed(app, service, user, organization_id, **options):
    with app.app_context():
        result = service(user, uuid.UUID(organization_id), collection_query(**options))
        identity_map = list(db.session.identity_map.values())
        db.session.remove()
    return result, identity_map


def test_a_record_answers_what_the_model_answers(session):
    invite_record = record_class(OrganizationInvite)()
    invite_record.__dict__.update(accepted_at=None, cancelled_at=None, expires_at=None)
    assert isinstance(OrganizationInvite.status, property)
    assert type(invite_record).status is OrganizationInvite.status
    assert type(invite_record).status_at is OrganizationInvite.status_at
    user_record = record_class(User)()
    user_record.__dict__.update(id="x", first_name=" Ada ", last_name="Lovelace")
    assert user_record.full_name == "Ada Lovelace"
    # nothing of the ORM: no session can track or write it
    assert not hasattr(user_record, "_sa_instance_state")
    assert not hasattr(type(user_record), "query")
    assert repr(user_record) == "<User x>"


def test_a_record_holds_uuids_and_times_as_text_and_answers_them_typed(
    app, api, client, login, user, session
):
    organization = api.create_organization(user)
    invite_all(client, login, organization, user, ["t@example.com"])
    result, _ = listed(
        app, invites.list_invites, user, organization["id"], include=("invited_by_user",)
    )
    [record] = result.items
    stored = session.get(OrganizationInvite, record.id)
    held = record.__dict__  # what the document writer reads
    assert (held["id"], held["organization_id"]) == (str(stored.id), organization["id"])
    assert held["invited_by_user_id"] == str(user.id) and held["accepted_at"] is None
    assert isinstance(held["created_at"], str)
    assert datetime.fromisoformat(held["created_at"]) == stored.created_at
    # read as attributes, the values are the model's own types
    assert type(record.id) is StoredUUID and record.id == stored.id
    assert type(record.invited_by_user.id) is StoredUUID and record.invited_by_user.id == user.id
    for name in ("created_at", "updated_at", "updated_in_db_at", "expires_at", "last_sent_at"):
        assert getattr(record, name) == getattr(stored, name)
        assert getattr(record, name).tzinfo is UTC
    assert record.accepted_at is None and record.cancelled_by_user_id is None
    with pytest.raises(AttributeError):
        record.created_at = stored.created_at  # the text and its value cannot part


def test_to_one_includes_are_read_as_records_with_no_orm_instances(app, api, client, login, user):
    organization = api.create_organization(user)
    invite_all(client, login, organization, user, ["a@example.com", "b@example.com"])
    result, identity_map = listed(
        app, invites.list_invites, user, organization["id"], include=("invited_by_user",)
    )
    assert [item.recipient_email for item in result.items] == ["b@example.com", "a@example.com"]
    assert result.total_count == 2
    assert not any(isinstance(item, OrganizationInvite) for item in result.items)
    assert {item.status for item in result.items} == {"pending"}
    assert {item.invited_by_user.id for item in result.items} == {user.id}
    assert result.items[0].invited_by_user.email == user.email
    # only the caller (authentication) is an ORM instance: the page made none
    assert not any(isinstance(obj, OrganizationInvite) for obj in identity_map)


def test_records_never_read_hidden_columns(app, api, client, login, user, count_queries):
    """A password hash is shown by no document: a listing's statement does not select it,
    and its records do not hold it. An invite's code is shown to those who may list invites."""
    organization = api.create_organization(user)
    invite_all(client, login, organization, user, ["a@example.com"])
    with count_queries() as statements:
        result, _ = listed(
            app, invites.list_invites, user, organization["id"], include=("invited_by_user",)
        )
    [page] = [statement for statement in statements if "organization_invites" in statement]
    assert "password_hash" not in page
    [invite] = result.items
    assert not hasattr(invite.invited_by_user, "password_hash")
    assert "password_hash" not in type(invite.invited_by_user).__record_columns__
    assert len(invite.code) == 64


def test_listed_invites_show_their_code(client, api, login, user):
    organization = api.create_organization(user)
    invite_all(client, login, organization, user, ["a@example.com"])
    response = client.get(
        f"/api/v2/organizations/{organization['id']}/invites?include=invited_by_user",
        headers=login(user),
    )
    [invite] = response.json["data"]
    assert len(invite["attributes"]["code"]) == 64
    [inviter] = response.json["included"]
    assert "password_hash" not in inviter["attributes"]


def test_an_outer_join_that_finds_nothing_is_none(app, api, client, login, user, session):
    organization = api.create_organization(user)
    admin = UserFactory()
    session.add(Membership(organization_id=organization["id"], user_id=admin.id, role="admin"))
    session.commit()
    invite_all(client, login, organization, admin, ["gone@example.com"])
    session.delete(admin)  # invited_by_user_id is SET NULL
    session.commit()
    result, _ = listed(
        app, invites.list_invites, user, organization["id"], include=("invited_by_user",)
    )
    [item] = result.items
    assert item.invited_by_user_id is None and item.invited_by_user is None
    response = client.get(
        f"/api/v2/organizations/{organization['id']}/invites?include=invited_by_user",
        headers=login(user),
    )
    assert response.json["data"][0]["relationships"]["invited_by_user"]["data"] is None
    assert response.json["included"] == []


def test_nested_to_one_paths_are_joined_as_records(app, api, user):
    organization = api.create_organization(user)
    result, _ = listed(
        app,
        memberships.list_memberships,
        user,
        organization["id"],
        include=("organization.owner",),
    )
    [membership] = result.items
    assert not isinstance(membership, Membership)
    assert str(membership.organization.id) == organization["id"]
    assert membership.organization.owner.id == user.id
    assert membership.organization.members_count == 1  # column properties come along


@pytest.fixture
def busy_organizations(api, user, session):
    """Two organizations of `user`'s with members (one removed), channels (one archived) and
    channel members joined out of id order: what to-many includes must read as the ORM would."""
    made = [api.create_organization(user), api.create_organization(user, name="Beta")]
    others = UserFactory.create_batch(4)
    for number, organization in enumerate(made):
        for other in others[number:]:
            api.add_member(organization["id"], user, other)
        api.create_channel(organization["id"], user, name="random")
        api.create_channel(organization["id"], user, name="old", archived=True)
    first = made[0]["id"]
    removed = session.scalars(
        select(Membership).where(
            Membership.organization_id == first, Membership.user_id == others[0].id
        )
    ).one()
    removed.removed_at = datetime.now(UTC)
    random = session.scalars(
        select(Channel).where(Channel.organization_id == first, Channel.name == "random")
    ).one()
    for other in reversed(others[1:]):
        session.add(ChannelMember(channel_id=random.id, user_id=other.id))
    session.commit()
    return made


def related_ids(items, path):
    """Ids along `path` (dotted relationship names) below each item, as nested lists."""
    name, _, rest = path.partition(".")
    found = []
    for item in items:
        value = getattr(item, name)
        many = value if isinstance(value, list) else [value]
        found.append([(str(v.id), related_ids([v], rest) if rest else None) for v in many])
    return found


TO_MANY = ("memberships.user", "channels.members", "owner")


def test_to_many_includes_are_read_as_records_as_the_orm_loads_them(
    app, user, session, busy_organizations
):
    result, identity_map = listed_organizations(app, user, include=TO_MANY)
    ids = [uuid.UUID(organization["id"]) for organization in busy_organizations]
    stored = session.scalars(
        select(Organization)
        .where(Organization.id.in_(ids))
        .options(
            selectinload(Organization.memberships).selectinload(Membership.user),
            selectinload(Organization.channels).selectinload(Channel.members),
            selectinload(Organization.owner),
        )
        .order_by(Organization.name)
    ).all()
    items = sorted(result.items, key=lambda item: item.name)
    for path in TO_MANY:
        assert related_ids(items, path) == related_ids(stored, path), path
    first = items[0]
    # the relationships' own conditions and order: the removed member and the archived
    # channel left out, channels and members by id whatever order they were made in
    assert len(first.memberships) == 4
    assert {channel.name for channel in first.channels} == {"general", "random"}
    assert [c.id for c in first.channels] == sorted(c.id for c in first.channels)
    [members] = [channel.members for channel in first.channels if channel.name == "random"]
    assert len(members) == 4 and [m.id for m in members] == sorted(m.id for m in members)
    with app.app_context():
        alone = organizations.get_organization(user, ids[0], include=("invites",))
        db.session.remove()
    assert alone.invites == []  # read, and found empty
    read = [*items, *(m for item in items for m in item.memberships), *members]
    assert not any(isinstance(item, db.Model) for item in read)
    assert not any(isinstance(obj, Organization | Membership | Channel) for obj in identity_map)


def listed_organizations(app, user, **options):
    with app.app_context():
        result = organizations.list_organizations(user, collection_query(**options))
        identity_map = list(db.session.identity_map.values())
        db.session.remove()
    return result, identity_map


def test_a_to_many_step_below_a_to_one_join_reads_each_parent_once(
    app, user, busy_organizations, count_queries
):
    with count_queries() as statements:
        result, _ = listed(
            app,
            memberships.list_memberships,
            user,
            busy_organizations[0]["id"],
            include=("organization.memberships",),
        )
    assert len(result.items) == 4
    lists = [membership.organization.memberships for membership in result.items]
    assert all(sorted(m.id for m in found) == sorted(m.id for m in result.items) for found in lists)
    # the page (organization joined); the organization's memberships, asked for once
    [_page, step] = [statement for statement in statements if "JOIN memberships" in statement]
    assert "FROM organizations AS organizations_1 JOIN memberships" in step
    assert "= ANY (" in step


def test_a_to_many_include_costs_one_statement_per_level_whatever_the_page(
    api, client, login, user, busy_organizations, count_queries
):
    url = "/api/v2/organizations?include=memberships.user,channels.members,owner"
    headers = login(user)
    with count_queries() as two:
        document = client.get(url, headers=headers).json
    assert len(document["data"]) == 2
    assert {r["type"] for r in document["included"]} == {"memberships", "users", "channels"}
    for number in range(6):
        api.create_organization(user, name=f"org {number}")
    with count_queries() as eight:
        assert len(client.get(url, headers=headers).json["data"]) == 8
    # authentication; the page (owners joined); memberships (their users joined);
    # channels; channel members
    assert len(two) == len(eight) == 5, eight


def test_a_write_answers_with_its_row_read_as_a_record(app, api, client, login, user):
    organization = api.create_organization(user)
    invite_all(client, login, organization, user, ["b@example.com"])
    with app.app_context():
        [listed_invite] = invites.list_invites(
            user, uuid.UUID(organization["id"]), collection_query(size=1)
        ).items
        read = listing.fetch_one(OrganizationInvite, listed_invite.id, ["invited_by_user"])
        [channel] = channels.list_channels(
            user, uuid.UUID(organization["id"]), collection_query(size=1)
        ).items
        with_members = listing.fetch_one(Channel, channel.id, ["members"])
        with pytest.raises(NoResultFound):
            listing.fetch_one(OrganizationInvite, uuid.uuid4())
        db.session.remove()
    assert type(read) is record_class(OrganizationInvite)
    assert (read.recipient_email, read.invited_by_user.id) == ("b@example.com", user.id)
    assert type(with_members) is record_class(Channel)
    assert [member.id for member in with_members.members] == [user.id]
    assert type(with_members.members[0]) is record_class(User)


def test_a_record_of_an_orm_instance_holds_what_a_read_record_holds(app, api, user, session):
    organization = api.create_organization(user)
    stored = session.get(Organization, uuid.UUID(organization["id"]))
    with app.app_context():
        read = listing.fetch_one(Organization, stored.id)
        db.session.remove()
    made = record_of(stored)
    assert type(made) is type(read) and made.__model__ is Organization
    assert made.__dict__.keys() == read.__dict__.keys()
    for key in made.__dict__:
        assert getattr(made, key) == getattr(read, key), key


def test_to_many_includes_on_sqlite_read_their_parents_by_an_in_list(tmp_path):
    development = sqlite_app_with_owner(tmp_path)
    try:
        client, media = development.client, development.headers
        body = {"data": {"type": "organizations", "attributes": {"name": "Dev"}}}
        created = client.post("/api/v2/organizations", json=body, headers=media)
        assert created.status_code == 201, created.json
        url = f"/api/v2/organizations/{created.json['data']['id']}"
        shown = client.get(url + "?include=memberships.user,channels.members", headers=media)
        assert shown.status_code == 200, shown.json
        included = {(r["type"], r["id"]) for r in shown.json["included"]}
        assert ("users", development.owner_id) in included
        assert {type_ for type_, _ in included} == {"memberships", "users", "channels"}
        [channel] = shown.json["data"]["relationships"]["channels"]["data"]
        members = client.get(f"{url}/channels/{channel['id']}?include=members", headers=media).json[
            "data"
        ]["relationships"]["members"]["data"]
        assert [m["id"] for m in members] == [development.owner_id]
    finally:
        development.dispose()


def test_one_invite_is_read_as_a_record_and_its_role_with_it(app, api, client, login, user):
    organization = api.create_organization(user)
    invite_all(client, login, organization, user, ["a@example.com"])
    stranger = UserFactory()
    with app.app_context():
        [listed_invite] = invites.list_invites(
            user, uuid.UUID(organization["id"]), collection_query(size=1)
        ).items
        found = invites.get_invite(user, listed_invite.id, include=("organization.owner",))
        identity_map = list(db.session.identity_map.values())
        with pytest.raises(NotFound):
            invites.get_invite(stranger, listed_invite.id)
        with pytest.raises(NotFound):  # under another organization's URL
            invites.get_invite(user, listed_invite.id, organization_id=uuid.uuid4())
        db.session.remove()
    assert not isinstance(found, OrganizationInvite)
    assert (found.recipient_email, found.status) == ("a@example.com", "pending")
    assert found.organization.owner.id == user.id
    assert not any(isinstance(obj, OrganizationInvite | User) for obj in identity_map)


def listed_shapes() -> list:
    """The kept shapes of listings (pages and pulls), not of single reads (authentication
    reads the caller as one)."""
    return [key for key in listing._SHAPES if key[0] != "one"]


def test_a_shape_is_built_once_and_serves_every_scope_value(app, api, client, login, user):
    first, second = api.create_organization(user), api.create_organization(user, name="Beta")
    invite_all(client, login, first, user, ["one@example.com"])
    invite_all(client, login, second, user, ["two@example.com", "three@example.com"])
    url = "/api/v2/organizations/{}/invites?sort=recipient_email&include=invited_by_user"
    listing._SHAPES.clear()
    answers = {}
    for organization in (first, second, first):
        response = client.get(url.format(organization["id"]), headers=login(user))
        answers[organization["id"]] = [
            i["attributes"]["recipient_email"] for i in response.json["data"]
        ]
        assert len(listed_shapes()) == 1  # the same statement, other parameters
    assert answers == {
        first["id"]: ["one@example.com"],
        second["id"]: ["three@example.com", "two@example.com"],
    }
    # past the end, the count alone runs with the scope's parameters too
    response = client.get(
        url.format(second["id"]) + "&page[number]=5&page[size]=1", headers=login(user)
    )
    assert response.json["data"] == []
    assert response.json["meta"]["pagination"]["total_count"] == 2


def test_filter_values_are_not_cached_as_shapes(app, api, client, login, user):
    organization = api.create_organization(user)
    invite_all(client, login, organization, user, ["x@example.com", "y@example.com"])
    listing._SHAPES.clear()
    url = f"/api/v2/organizations/{organization['id']}/invites?filter[recipient_email]="
    for email in ("x@example.com", "y@example.com"):
        response = client.get(url + email, headers=login(user))
        assert [i["attributes"]["recipient_email"] for i in response.json["data"]] == [email]
    assert listed_shapes() == []


def test_the_shapes_kept_are_bounded(app, api, client, login, user, monkeypatch):
    organization = api.create_organization(user)
    monkeypatch.setattr(listing, "MAX_SHAPES", 2)
    listing._SHAPES.clear()
    base = f"/api/v2/organizations/{organization['id']}/invites?sort="
    for sort in ("created_at", "-created_at", "expires_at", "recipient_email"):
        assert client.get(base + sort, headers=login(user)).status_code == 200
        assert len(listing._SHAPES) <= 2
    assert len(listing._SHAPES) == 2


@pytest.mark.parametrize("cursor_with_id", [False, True])
def test_pulls_share_a_shape_per_cursor_form(api, client, login, user, cursor_with_id):
    organization = api.create_organization(user)
    invite_all(client, login, organization, user, [f"p{n}@example.com" for n in range(3)])
    listing._SHAPES.clear()
    url = f"/api/v2/organizations/{organization['id']}/invites?page[size]=2"
    since = "2000-01-01T00:00:00.000Z"
    seen = []
    response = client.get(f"{url}&filter[updated_since]={since}", headers=login(user))
    seen += [item["id"] for item in response.json["data"]]
    if cursor_with_id:
        cursor = response.json["meta"]["sync"]["cursor"]
        response = client.get(f"{url}&filter[updated_since]={cursor}", headers=login(user))
        seen += [item["id"] for item in response.json["data"]]
        assert len(seen) == 3 and len(set(seen)) == 3
    assert len(listed_shapes()) == (2 if cursor_with_id else 1)


def test_filters_a_service_applies_itself_choose_a_scope_whose_shapes_are_kept(
    api, client, login, user
):
    """Channels' `archived` and `membership` filters pick one of the service's scopes, with
    the caller as a parameter: their statements are built once, like an unfiltered one's."""
    first, second = api.create_organization(user), api.create_organization(user, name="Beta")
    other = UserFactory()
    api.add_member(second["id"], user, other)
    for organization, name in ((first, "one"), (second, "two")):
        api.create_channel(organization["id"], user, name=name, archived=True)
    listing._SHAPES.clear()
    url = "/api/v2/organizations/{}/channels?filter[archived]=true&filter[membership]={}"
    for caller, membership, expected in (
        (user, "member", {first["id"]: ["one"], second["id"]: ["two"]}),
        (other, "non_member", {second["id"]: ["two"]}),
    ):
        for organization_id, names in expected.items():
            response = client.get(url.format(organization_id, membership), headers=login(caller))
            assert [c["attributes"]["name"] for c in response.json["data"]] == names
    assert len(listed_shapes()) == 2  # one per choice of filters, for every organization
    response = client.get(url.format(second["id"], "member"), headers=login(other))
    assert response.json["data"] == []  # the caller is a parameter of the shape kept
    assert len(listed_shapes()) == 2


@pytest.mark.parametrize(
    ("kind", "to_many"),
    [("organizations", "memberships"), ("channels", "members"), ("memberships", None)],
)
def test_one_resource_is_read_as_a_record_with_the_callers_role(
    api, client, login, user, count_queries, kind, to_many
):
    organization, elsewhere = api.create_organization(user), api.create_organization(user)
    base = f"/api/v2/organizations/{organization['id']}"
    if kind == "organizations":
        url, flat, moved = base, base, None
    else:
        if kind == "channels":
            resource = api.create_channel(organization["id"], user)
        else:
            resource = api.add_member(organization["id"], user, UserFactory())
        url = f"{base}/{kind}/{resource['id']}"
        flat = f"/api/v2/{kind}/{resource['id']}"
        moved = f"/api/v2/organizations/{elsewhere['id']}/{kind}/{resource['id']}"
    headers = login(user)
    with count_queries() as statements:
        assert client.get(url, headers=headers).status_code == 200
    assert len(statements) == 2, statements  # the caller; the row with the caller's role
    if to_many:
        with count_queries() as statements:
            response = client.get(f"{url}?include={to_many}", headers=headers)
        assert response.json["included"]
        assert len(statements) == 3, statements  # and the to-many step
    assert client.get(flat, headers=headers).status_code == 200
    if moved:  # under another organization's URL (one the caller belongs to as well)
        assert client.get(moved, headers=headers).status_code == 404
    stranger = UserFactory()
    api.create_organization(stranger)  # their role elsewhere is no role here
    assert client.get(url, headers=login(stranger)).status_code == 404
