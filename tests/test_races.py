"""Races between real concurrent clients: gunicorn with several worker processes on the test
database, and requests released together from a thread pool, each on its own connection.
Every race ends in an answer the contract gives: one conditional write wins and the others
are stale (with the winner's state), replays of one create all get the stored resource,
relationship writes are idempotent and a resource deleted at once leaves one tombstone."""

import http.client
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from jsonapi_server.extensions import db

from .development import sqlite_app_with_owner
from .factories import UserFactory
from .served import gunicorn

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 4
N = 20


@pytest.fixture(scope="module")
def port(app, database_url, tmp_path_factory):
    """gunicorn with WORKERS processes on the session's database (`app` has migrated it)."""
    directory = tmp_path_factory.mktemp("races")
    with gunicorn(directory, database_url, workers=WORKERS) as server:
        yield server.port


def race(port, requests):
    """Send `requests` ((method, path, document or None, headers)) at once: each on its own
    connection, opened first, all released by one barrier. Answers as (status, document)."""
    barrier = threading.Barrier(len(requests))

    def send(request):
        method, path, document, headers = request
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.connect()
        body = None if document is None else json.dumps(document)
        headers = {"Content-Type": "application/vnd.api+json", **headers}
        barrier.wait()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        return response.status, json.loads(raw) if raw else None

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


def statuses(answers) -> list[int]:
    return sorted(status for status, _ in answers)


def get(port, path, headers):
    [(status, document)] = race(port, [("GET", path, None, headers)])
    assert status == 200, document
    return document["data"]


def error_of(document) -> dict:
    [error] = document["errors"]
    return error


@pytest.fixture
def owner(session):
    return UserFactory()


@pytest.fixture
def org(api, owner):
    return api.create_organization(owner, name="Race")


def org_path(org) -> str:
    return f"/api/v2/organizations/{org['id']}"


# -- conditional writes ----------------------------------------------------------------------

# kind -> (path below the organization or None for the organization itself, attribute,
# values for writer i: every value differs, or two that alternate when the attribute has two)
KINDS = {
    "organizations": (None, "name", lambda i: f"Name {i}"),
    "channels": ("channels", "description", lambda i: f"About {i}"),
    "memberships": ("memberships", "role", lambda i: ("admin", "member")[i % 2]),
    "organization_invites": ("invites", "invite_user_as", lambda i: ("admin", "member")[i % 2]),
}


def make_resource(kind, api, client, login, owner, org) -> dict:
    if kind == "organizations":
        return org
    if kind == "channels":
        return api.create_channel(org["id"], owner, name="contested")
    if kind == "memberships":
        return api.add_member(org["id"], owner, UserFactory(), role="member")
    body = {"data": {"type": kind, "attributes": {"recipient_email": "contested@example.com"}}}
    response = client.send("POST", f"{org_path(org)}/invites", body, headers=login(owner))
    assert response.status_code == 201, response.json
    return response.json["data"]


def resource_path(kind, org, resource) -> str:
    below = KINDS[kind][0]
    return org_path(org) if below is None else f"{org_path(org)}/{below}/{resource['id']}"


def etag_of(port, path, headers) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.getheader("ETag")


def conditional_patches(kind, resource, path, headers, values, *, if_match):
    """One PATCH per value, all on the resource's version as the base."""
    base = resource["attributes"]["updated_in_db_at"]
    attribute = KINDS[kind][1]
    requests = []
    for value in values:
        attributes = {attribute: value}
        extra = {"If-Match": if_match} if if_match else {}
        if not if_match:
            attributes["updated_in_db_at"] = base
        document = {"data": {"type": kind, "id": resource["id"], "attributes": attributes}}
        requests.append(("PATCH", path, document, {**headers, **extra}))
    return requests


def check_contest(kind, resource, values, answers, stored, *, precondition):
    """Exactly one write happened and it is what is stored: every 200 answers the stored
    state, or the state before the write for a writer that asked for no change (a writer that
    changed nothing before the winner wrote may be answered with the stored state too: its
    answer is read after its commit). Every writer that asked for something else than the
    stored state and was not first is stale, with the stored state in meta.current."""
    attribute = KINDS[kind][1]
    base, before = resource["attributes"]["updated_in_db_at"], resource["attributes"][attribute]
    assert stored["attributes"]["updated_in_db_at"] != base
    stale_status = 412 if precondition else 409
    for value, (status, document) in zip(values, answers, strict=True):
        if status == 200:
            attributes = document["data"]["attributes"]
            if attributes == stored["attributes"]:
                assert value in (stored["attributes"][attribute], before)
            else:  # a no-op before the write
                assert attributes["updated_in_db_at"] == base
                assert value == attributes[attribute] == before
        else:
            assert status == stale_status, document
            error = error_of(document)
            assert error["code"] == "stale_update"
            assert error["meta"]["current"]["attributes"] == stored["attributes"]
            assert value != stored["attributes"][attribute]


@pytest.mark.parametrize("precondition", [False, True], ids=["body-base", "if-match"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_of_concurrent_writers_on_one_base_exactly_one_writes(
    port, api, client, login, owner, org, kind, precondition
):
    headers = login(owner)
    resource = make_resource(kind, api, client, login, owner, org)
    path = resource_path(kind, org, resource)
    etag = etag_of(port, path, headers) if precondition else None
    values = [KINDS[kind][2](i) for i in range(N)]
    answers = race(port, conditional_patches(kind, resource, path, headers, values, if_match=etag))
    stored = get(port, path, headers)
    check_contest(kind, resource, values, answers, stored, precondition=precondition)
    if len(set(values)) == N:  # every value differs: one winner, everyone else stale
        assert statuses(answers) == [200] + [412 if precondition else 409] * (N - 1)
        [(_, winner)] = [answer for answer in answers if answer[0] == 200]
        assert winner["data"]["attributes"] == stored["attributes"]


def test_two_writers_on_one_base_repeatedly_one_wins(port, client, login, owner, org):
    headers = login(owner)
    path = org_path(org)
    for round_ in range(10):
        resource = get(port, path, headers)
        values = [f"Round {round_} A", f"Round {round_} B"]
        answers = race(
            port,
            conditional_patches("organizations", resource, path, headers, values, if_match=None),
        )
        assert statuses(answers) == [200, 409], answers
        stored = get(port, path, headers)
        check_contest("organizations", resource, values, answers, stored, precondition=False)


def test_a_write_and_a_conditional_delete_on_one_base_one_succeeds(
    port, api, client, login, owner, org
):
    headers = login(owner)
    for round_ in range(3):
        channel = api.create_channel(org["id"], owner, name=f"doomed-{round_}")
        path = f"{org_path(org)}/channels/{channel['id']}"
        etag = etag_of(port, path, headers)
        [patch] = conditional_patches(
            "channels", channel, path, headers, ["changed"], if_match=etag
        )
        answers = race(port, [patch, ("DELETE", path, None, {**headers, "If-Match": etag})])
        (patched, patch_answer), (deleted, _) = answers
        assert sorted([patched, deleted]) in ([200, 412], [204, 404]), answers
        if deleted == 412:
            assert patch_answer["data"]["attributes"]["description"] == "changed"


# -- creates with a client-generated id ------------------------------------------------------


def create_requests(kind, org, headers, client_id):
    if kind == "organizations":
        attributes, path, relationships = {"name": "Offline"}, "/api/v2/organizations", None
    elif kind == "channels":
        attributes, path, relationships = {"name": "offline"}, f"{org_path(org)}/channels", None
    elif kind == "memberships":
        member = UserFactory()
        attributes, path = {"role": "admin"}, f"{org_path(org)}/memberships"
        relationships = {"user": {"data": {"type": "users", "id": str(member.id)}}}
    else:
        attributes, path = {"recipient_email": "offline@example.com"}, f"{org_path(org)}/invites"
        relationships = None
    data = {"type": kind, "id": client_id, "attributes": attributes}
    if relationships:
        data["relationships"] = relationships
    return [("POST", path, {"data": data}, headers)] * N


@pytest.mark.parametrize("kind", list(KINDS))
def test_concurrent_identical_creates_of_one_client_id_all_get_the_stored_one(
    port, login, owner, org, session, kind
):
    client_id = str(uuid.uuid4())
    answers = race(port, create_requests(kind, org, login(owner), client_id))
    assert statuses(answers) == [201] * N, [a for a in answers if a[0] != 201]
    stored = {json.dumps(document["data"], sort_keys=True) for _, document in answers}
    assert len(stored) == 1
    table = db.metadata.tables[kind]
    count = session.scalar(
        sa.select(sa.func.count()).select_from(table).where(table.c.id == uuid.UUID(client_id))
    )
    assert count == 1


def test_a_concurrent_create_of_a_taken_client_id_with_other_values_is_409(port, login, owner, org):
    client_id = str(uuid.uuid4())
    same = create_requests("channels", org, login(owner), client_id)[0]
    other = (
        "POST",
        same[1],
        {"data": {**same[2]["data"], "attributes": {"name": "other"}}},
        same[3],
    )
    answers = race(port, [same, other] * 5)
    codes = sorted({status for status, _ in answers})
    assert codes == [201, 409], answers
    winners = {json.dumps(d["data"]["attributes"]["name"]) for s, d in answers if s == 201}
    assert len(winners) == 1
    assert all(error_of(d)["code"] == "duplicate_id" for s, d in answers if s == 409)


# -- relationship writes ---------------------------------------------------------------------


def test_concurrent_joins_and_leaves_of_one_channel_by_one_user(
    port, api, login, owner, org, session
):
    member = UserFactory()
    api.add_member(org["id"], owner, member)
    channel = api.create_channel(org["id"], owner, name="crowded")
    path = f"{org_path(org)}/channels/{channel['id']}/relationships/members"
    document = {"data": [{"type": "users", "id": str(member.id)}]}
    headers = login(member)
    joins = race(port, [("POST", path, document, headers)] * N)
    assert statuses(joins) == [200] * N, joins
    assert all(str(member.id) in {m["id"] for m in d["data"]} for _, d in joins)
    rows = session.scalar(
        sa.text("SELECT count(*) FROM channel_members WHERE channel_id = :c AND user_id = :u"),
        {"c": channel["id"], "u": str(member.id)},
    )
    assert rows == 1
    leaves = race(port, [("DELETE", path, document, headers)] * N)
    assert statuses(leaves) == [200] * N, leaves
    assert all(str(member.id) not in {m["id"] for m in d["data"]} for _, d in leaves)


def test_a_join_during_the_members_removal_never_leaves_them_in_the_channel(
    port, api, login, owner, org, session
):
    for round_ in range(3):
        member = UserFactory()
        membership = api.add_member(org["id"], owner, member)
        channel = api.create_channel(org["id"], owner, name=f"side-{round_}")
        members = f"{org_path(org)}/channels/{channel['id']}/relationships/members"
        join = ("POST", members, {"data": [{"type": "users", "id": str(member.id)}]}, login(member))
        remove = ("DELETE", f"{org_path(org)}/memberships/{membership['id']}", None, login(owner))
        (joined, _), (removed, _) = race(port, [join, remove])
        assert removed == 204
        assert joined in (200, 404)  # before the removal, or after it: no longer a member
        rows = session.scalar(
            sa.text("SELECT count(*) FROM channel_members WHERE channel_id = :c AND user_id = :u"),
            {"c": channel["id"], "u": str(member.id)},
        )
        assert rows == 0


# -- deletes and state changes ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["channels", "organizations"])
def test_concurrent_deletes_leave_one_tombstone(port, api, login, owner, org, session, kind):
    if kind == "channels":
        doomed = api.create_channel(org["id"], owner, name="doomed")
        path = f"{org_path(org)}/channels/{doomed['id']}"
    else:
        doomed, path = org, org_path(org)
    answers = race(port, [("DELETE", path, None, login(owner))] * 10)
    assert statuses(answers) == [204] + [404] * 9, answers
    tombstones = session.scalar(
        sa.text("SELECT count(*) FROM deleted_records WHERE deletable_id = :id"),
        {"id": doomed["id"]},
    )
    assert tombstones == 1


def test_an_accept_against_a_cancel_of_one_invite_one_wins(port, client, login, owner, org):
    for round_ in range(6):
        recipient = UserFactory(email=f"contested-{round_}@example.com")
        body = {
            "data": {
                "type": "organization_invites",
                "attributes": {"recipient_email": recipient.email},
            }
        }
        created = client.send("POST", f"{org_path(org)}/invites", body, headers=login(owner)).json
        invite = created["data"]
        path = f"{org_path(org)}/invites/{invite['id']}"
        accept_body = {
            "data": {
                "type": "organization_invites",
                "id": invite["id"],
                "attributes": {"code": invite["attributes"]["code"]},
            }
        }
        accept = ("PUT", f"{path}/accept", accept_body, login(recipient))
        cancel = ("DELETE", path, None, login(owner))
        answers = dict(zip(("accept", "cancel"), race(port, [accept, cancel]), strict=True))
        stored = get(port, path, login(owner))["attributes"]["status"]
        if answers["accept"][0] == 200:
            assert answers["cancel"][0] == 409, answers
            assert error_of(answers["cancel"][1])["code"] == "invite_accepted"
            assert stored == "accepted"
        else:
            assert answers["cancel"][0] == 204, answers
            assert answers["accept"][0] == 410, answers
            assert error_of(answers["accept"][1])["code"] == "invite_cancelled"
            assert stored == "cancelled"


def test_the_same_writes_on_sqlite_one_writer_in_development(tmp_path):
    """SQLite ignores FOR UPDATE (one writer) and takes the same ON CONFLICT DO NOTHING."""
    development = sqlite_app_with_owner(tmp_path)
    client, media, owner_id = development.client, development.headers, development.owner_id
    client_id = str(uuid.uuid4())
    body = {"data": {"type": "organizations", "id": client_id, "attributes": {"name": "Dev"}}}
    created = client.post("/api/v2/organizations", json=body, headers=media)
    assert created.status_code == 201, created.json
    assert client.post("/api/v2/organizations", json=body, headers=media).status_code == 201
    path = f"/api/v2/organizations/{client_id}"
    base = created.json["data"]["attributes"]["updated_in_db_at"]
    changes = {"data": {"type": "organizations", "id": client_id, "attributes": {}}}
    for name, status in [("First", 200), ("Second", 409), ("First", 200)]:
        changes["data"]["attributes"] = {"name": name, "updated_in_db_at": base}
        assert client.patch(path, json=changes, headers=media).status_code == status
    channel = client.post(
        f"{path}/channels",
        json={"data": {"type": "channels", "attributes": {"name": "dev"}}},
        headers=media,
    ).json["data"]
    members = f"{path}/channels/{channel['id']}/relationships/members"
    identifiers = {"data": [{"type": "users", "id": owner_id}]}
    for method in ("POST", "POST", "DELETE", "DELETE", "POST"):
        response = client.open(members, method=method, json=identifiers, headers=media)
        assert response.status_code == 200, response.json
    assert [m["id"] for m in response.json["data"]] == [owner_id]
    channel_path = f"{path}/channels/{channel['id']}"
    assert client.delete(channel_path, headers=media).status_code == 204
    assert client.delete(channel_path, headers=media).status_code == 404
    assert client.delete("/api/v2/auth/tokens/current", headers=media).status_code == 204
    development.dispose()
