"""The offline-sync mechanism: versions, conditional writes, ETags, client-generated ids,
pulls with a cursor that never skips a late commit, and tombstones of hard deletes."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from jsonapi_server.extensions import db
from jsonapi_server.times import format_timestamp, parse_timestamp, utc_now

from .factories import UserFactory


@pytest.fixture
def org(api, user):
    return api.create_organization(user, name="Acme")


def org_url(org):
    return f"/api/v2/organizations/{org['id']}"


def patch(client, headers, org, attributes, extra_headers=None):
    body = {"data": {"type": "organizations", "id": org["id"], "attributes": attributes}}
    return client.send("PATCH", org_url(org), body, headers={**headers, **(extra_headers or {})})


class TestVersions:
    def test_every_write_gets_a_strictly_later_version(self, client, login, user, org):
        headers = login(user)
        versions = [org["attributes"]["updated_in_db_at"]]
        for number in range(5):  # fast enough to land in one millisecond at times
            response = patch(client, headers, org, {"description": f"v{number}"})
            versions.append(response.json["data"]["attributes"]["updated_in_db_at"])
        parsed = [parse_timestamp(v) for v in versions]
        assert parsed == sorted(set(parsed))
        assert all(v.endswith("Z") and len(v) == 24 for v in versions)

    def test_a_patch_that_changes_nothing_writes_nothing(self, client, login, user, org):
        response = patch(client, login(user), org, {"name": "Acme"})
        assert (
            response.json["data"]["attributes"]["updated_in_db_at"]
            == org["attributes"]["updated_in_db_at"]
        )

    def test_updated_at_equals_the_version(self, client, login, user, org):
        attributes = patch(client, login(user), org, {"name": "B"}).json["data"]["attributes"]
        assert attributes["updated_at"] == attributes["updated_in_db_at"]


class TestConditionalWrites:
    @pytest.mark.parametrize(
        ("kind", "attributes"),
        [
            ("organizations", {"name": "Offline"}),
            ("channels", {"name": "offline"}),
            ("memberships", {"role": "admin"}),
            ("organization_invites", {"invite_user_as": "admin"}),
        ],
    )
    def test_a_stale_write_shows_the_row_it_holds_as_a_read_shows_it(
        self, api, client, login, user, org, kind, attributes
    ):
        """`meta.current` is the locked row the write read, made a record (not read again):
        the same resource object a GET answers."""
        headers = login(user)
        base = org_url(org)
        if kind == "channels":
            base = f"{org_url(org)}/channels/{api.create_channel(org['id'], user)['id']}"
        elif kind == "memberships":
            member = api.add_member(org["id"], user, UserFactory())
            base = f"{org_url(org)}/memberships/{member['id']}"
        elif kind == "organization_invites":
            body = {"data": {"type": kind, "attributes": {"recipient_email": "s@example.com"}}}
            created = client.send("POST", f"{org_url(org)}/invites", body, headers=headers)
            base = f"{org_url(org)}/invites/{created.json['data']['id']}"
        shown = client.get(base, headers=headers).json["data"]
        stale = {**attributes, "updated_in_db_at": "2000-01-01T00:00:00.000Z"}
        body = {"data": {"type": kind, "id": shown["id"], "attributes": stale}}
        response = client.send("PATCH", base, body, headers=headers)
        assert response.status_code == 409, response.json
        assert response.json["errors"][0]["meta"]["current"] == shown

    def test_current_base_writes(self, client, login, user, org):
        base = org["attributes"]["updated_in_db_at"]
        response = patch(client, login(user), org, {"name": "B", "updated_in_db_at": base})
        assert response.status_code == 200

    def test_stale_base_is_409_with_the_current_resource(self, client, login, user, org):
        headers = login(user)
        stale = org["attributes"]["updated_in_db_at"]
        current = patch(client, headers, org, {"name": "Server"}).json["data"]
        response = patch(client, headers, org, {"name": "Offline", "updated_in_db_at": stale})
        assert response.status_code == 409
        error = response.json["errors"][0]
        assert error["code"] == "stale_update"
        assert error["meta"]["current"]["attributes"]["name"] == "Server"
        assert (
            error["meta"]["current"]["attributes"]["updated_in_db_at"]
            == (current["attributes"]["updated_in_db_at"])
        )
        stored = client.get(org_url(org), headers=headers).json["data"]["attributes"]
        assert stored["name"] == "Server"

    def test_a_stale_retry_of_what_is_stored_is_200(self, client, login, user, org):
        headers = login(user)
        stale = org["attributes"]["updated_in_db_at"]
        patch(client, headers, org, {"name": "Same"})
        response = patch(client, headers, org, {"name": "Same", "updated_in_db_at": stale})
        assert response.status_code == 200

    def test_no_base_is_unconditional(self, client, login, user, org):
        headers = login(user)
        patch(client, headers, org, {"name": "First"})
        assert patch(client, headers, org, {"name": "Second"}).status_code == 200

    def test_null_base_is_no_base(self, client, login, user, org):
        headers = login(user)
        patch(client, headers, org, {"name": "First"})
        response = patch(client, headers, org, {"name": "Second", "updated_in_db_at": None})
        assert response.status_code == 200

    def test_malformed_base_is_422(self, client, login, user, org):
        response = patch(client, login(user), org, {"name": "x", "updated_in_db_at": "soon"})
        assert response.status_code == 422
        assert (
            response.json["errors"][0]["source"]["pointer"] == "/data/attributes/updated_in_db_at"
        )

    def test_javascript_round_trip_is_never_stale(self, client, login, user, org):
        written = org["attributes"]["updated_in_db_at"]
        as_js_date = datetime.fromisoformat(written.replace("Z", "+00:00"))  # new Date(...)
        base = as_js_date.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        assert base == written
        response = patch(client, login(user), org, {"name": "x", "updated_in_db_at": base})
        assert response.status_code == 200

    def test_other_forms_of_the_same_instant_are_the_same_base(self, client, login, user, org):
        version = parse_timestamp(org["attributes"]["updated_in_db_at"])
        offset_form = version.astimezone(
            __import__("datetime").timezone(__import__("datetime").timedelta(hours=1))
        ).isoformat()
        response = patch(client, login(user), org, {"name": "y", "updated_in_db_at": offset_form})
        assert response.status_code == 200


class TestETags:
    def test_get_sends_an_etag_and_if_none_match_is_304(self, client, login, user, org):
        headers = login(user)
        first = client.get(org_url(org), headers=headers)
        etag = first.headers["ETag"]
        assert etag.startswith('"') and not etag.startswith("W/")
        again = client.get(org_url(org), headers={**headers, "If-None-Match": etag})
        assert again.status_code == 304
        assert again.headers["ETag"] == etag
        patch(client, headers, org, {"name": "changed"})
        changed = client.get(org_url(org), headers={**headers, "If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["ETag"] != etag

    def test_stale_if_match_on_patch_is_412_with_current(self, client, login, user, org):
        headers = login(user)
        etag = client.get(org_url(org), headers=headers).headers["ETag"]
        patch(client, headers, org, {"name": "moved on"})
        response = patch(client, headers, org, {"name": "mine"}, {"If-Match": etag})
        assert response.status_code == 412
        assert response.json["errors"][0]["code"] == "stale_update"
        assert response.json["errors"][0]["meta"]["current"]["attributes"]["name"] == "moved on"

    def test_current_if_match_writes(self, client, login, user, org):
        headers = login(user)
        etag = client.get(org_url(org), headers=headers).headers["ETag"]
        assert patch(client, headers, org, {"name": "ok"}, {"If-Match": etag}).status_code == 200

    def test_body_base_and_if_match_that_disagree_are_400(self, client, login, user, org):
        headers = login(user)
        etag = client.get(org_url(org), headers=headers).headers["ETag"]
        response = patch(
            client,
            headers,
            org,
            {"name": "x", "updated_in_db_at": "2020-01-01T00:00:00.000Z"},
            {"If-Match": etag},
        )
        assert response.status_code == 400
        assert response.json["errors"][0]["source"] == {"header": "If-Match"}

    def test_both_agreeing_but_stale_is_412(self, client, login, user, org):
        headers = login(user)
        etag = client.get(org_url(org), headers=headers).headers["ETag"]
        stale = org["attributes"]["updated_in_db_at"]
        patch(client, headers, org, {"name": "moved on"})
        response = patch(
            client, headers, org, {"name": "x", "updated_in_db_at": stale}, {"If-Match": etag}
        )
        assert response.status_code == 412

    def test_stale_if_match_on_delete_is_412_and_deletes_nothing(self, client, login, user, org):
        headers = login(user)
        etag = client.get(org_url(org), headers=headers).headers["ETag"]
        patch(client, headers, org, {"name": "moved on"})
        response = client.delete(org_url(org), headers={**headers, "If-Match": etag})
        assert response.status_code == 412
        assert client.get(org_url(org), headers=headers).status_code == 200
        current = client.get(org_url(org), headers=headers).headers["ETag"]
        assert (
            client.delete(org_url(org), headers={**headers, "If-Match": current}).status_code == 204
        )


class TestClientGeneratedIds:
    def body(self, id_, name="Offline Org"):
        return {"data": {"type": "organizations", "id": id_, "attributes": {"name": name}}}

    def test_the_client_id_is_used(self, client, login, user):
        id_ = str(uuid.uuid4())
        response = client.send("POST", "/api/v2/organizations", self.body(id_), headers=login(user))
        assert response.status_code == 201
        assert response.json["data"]["id"] == id_

    def test_an_identical_replay_is_201_with_the_stored_resource(
        self, client, login, user, session
    ):
        id_ = str(uuid.uuid4())
        first = client.send("POST", "/api/v2/organizations", self.body(id_), headers=login(user))
        replay = client.send("POST", "/api/v2/organizations", self.body(id_), headers=login(user))
        assert replay.status_code == 201
        assert replay.json["data"] == first.json["data"]
        assert replay.headers["Location"] == first.headers["Location"]

    def test_any_other_duplicate_is_409(self, client, login, user):
        id_ = str(uuid.uuid4())
        client.send("POST", "/api/v2/organizations", self.body(id_), headers=login(user))
        different = client.send(
            "POST", "/api/v2/organizations", self.body(id_, "Other"), headers=login(user)
        )
        assert different.status_code == 409
        assert different.json["errors"][0]["code"] == "duplicate_id"
        someone_else = client.send(
            "POST", "/api/v2/organizations", self.body(id_), headers=login(UserFactory())
        )
        assert someone_else.status_code == 409

    def test_a_malformed_client_id_is_422(self, client, login, user):
        response = client.send(
            "POST", "/api/v2/organizations", self.body("nope"), headers=login(user)
        )
        assert response.status_code == 422
        assert response.json["errors"][0]["source"]["pointer"] == "/data/id"


def pull(client, headers, url, since):
    separator = "&" if "?" in url else "?"
    return client.get(f"{url}{separator}filter[updated_since]={since}", headers=headers)


class TestPulls:
    def test_a_pull_returns_changes_in_version_order_with_a_cursor(self, api, client, login, user):
        headers = login(user)
        start = "2000-01-01T00:00:00Z"
        orgs = [api.create_organization(user, name=f"o{i}") for i in range(3)]
        document = pull(client, headers, "/api/v2/organizations", start).json
        assert [o["id"] for o in document["data"]] == [o["id"] for o in orgs]
        assert "pagination" not in document["meta"]
        assert set(document["meta"]["sync"]) == {"cursor", "has_more"}
        assert document["meta"]["filter"] == {"updated_since": start}

    def test_keyset_pages_and_next_link(self, api, client, login, user):
        headers = login(user)
        for number in range(5):
            api.create_organization(user, name=f"o{number}")
        seen, url = (
            [],
            "/api/v2/organizations?page[size]=2&filter[updated_since]=2000-01-01T00:00:00Z",
        )
        for _ in range(5):
            document = client.get(url, headers=headers).json
            seen += [o["id"] for o in document["data"]]
            if not document["meta"]["sync"]["has_more"]:
                assert document["links"]["next"] is None
                break
            url = document["links"]["next"]
        assert len(seen) == len(set(seen)) == 5

    def test_fresh_changes_pass_at_once_page_by_page(self, api, client, login, user):
        """A burst of changes larger than a page, pulled straight away: every page moves the
        cursor on, `has_more` holds until the last one, and nothing comes twice."""
        organization = api.create_organization(user)
        headers = login(user)
        url = f"/api/v2/organizations/{organization['id']}/invites"
        for number in range(30):
            body = {
                "data": {
                    "type": "organization_invites",
                    "attributes": {"recipient_email": f"burst{number}@example.com"},
                }
            }
            assert client.send("POST", url, body, headers=headers).status_code == 201
        first = pull(client, headers, url, "2000-01-01T00:00:00Z").json
        assert len(first["data"]) == 25 and first["meta"]["sync"]["has_more"] is True
        second = pull(client, headers, url, first["meta"]["sync"]["cursor"]).json
        assert len(second["data"]) == 5 and second["meta"]["sync"]["has_more"] is False
        ids = [invite["id"] for invite in first["data"] + second["data"]]
        assert len(set(ids)) == 30
        third = pull(client, headers, url, second["meta"]["sync"]["cursor"]).json
        assert third["data"] == [] and third["meta"]["sync"] == second["meta"]["sync"]

    def test_a_pull_that_finds_nothing_gives_back_its_cursor(self, api, client, login, user):
        headers = login(user)
        api.create_organization(user, name="o")
        since = "2999-01-01T00:00:00Z"
        cursor = pull(client, headers, "/api/v2/organizations", since).json["meta"]["sync"]
        assert cursor["has_more"] is False
        again = pull(client, headers, "/api/v2/organizations", cursor["cursor"]).json
        assert again["data"] == [] and again["meta"]["sync"] == cursor

    def test_pulls_include_removed_memberships_and_archived_channels(
        self, api, client, login, user
    ):
        headers = login(user)
        organization = api.create_organization(user)
        base = f"/api/v2/organizations/{organization['id']}"
        membership = api.add_member(organization["id"], user, UserFactory())
        client.delete(f"{base}/memberships/{membership['id']}", headers=headers)
        channel = api.create_channel(organization["id"], user, name="old")
        body = {"data": {"type": "channels", "attributes": {"archived": True}}}
        client.send("PATCH", f"{base}/channels/{channel['id']}", body, headers=headers)
        listed = client.get(f"{base}/memberships", headers=headers).json["data"]
        assert membership["id"] not in [m["id"] for m in listed]
        pulled = pull(client, headers, f"{base}/memberships", "2000-01-01T00:00:00Z").json["data"]
        tombstone = next(m for m in pulled if m["id"] == membership["id"])
        assert tombstone["attributes"]["removed_at"] is not None
        channels = pull(client, headers, f"{base}/channels", "2000-01-01T00:00:00Z").json["data"]
        assert any(c["id"] == channel["id"] and c["attributes"]["archived"] for c in channels)

    @pytest.mark.parametrize("since", ["yesterday", "bm90IGEgY3Vyc29y", "!!"])
    def test_a_bad_cursor_is_400(self, client, login, user, since):
        response = pull(client, login(user), "/api/v2/organizations", since)
        assert response.status_code == 400
        assert response.json["errors"][0]["source"]["parameter"] == "filter[updated_since]"

    def test_sort_and_page_numbers_do_not_apply_to_pulls(self, client, login, user):
        headers = login(user)
        since = "2000-01-01T00:00:00Z"
        assert pull(client, headers, "/api/v2/organizations?sort=name", since).status_code == 400
        assert (
            pull(client, headers, "/api/v2/organizations?page[number]=2", since).status_code == 400
        )

    def test_deleted_records_reach_those_who_could_see(self, api, client, login, user):
        member, outsider = UserFactory(), UserFactory()
        organization = api.create_organization(user)
        api.add_member(organization["id"], user, member)
        channel = api.create_channel(organization["id"], user, name="doomed")
        base = f"/api/v2/organizations/{organization['id']}"
        client.delete(f"{base}/channels/{channel['id']}", headers=login(user))
        client.delete(base, headers=login(user))
        url = "/api/v2/deleted-records?filter[types]=channels,organizations&include=deleted_by"
        document = pull(client, login(member), url, "2000-01-01T00:00:00Z").json
        records = [
            (r["attributes"]["deletable_type"], r["attributes"]["deletable_id"])
            for r in document["data"]
        ]
        assert records == [("channels", channel["id"]), ("organizations", organization["id"])]
        assert document["data"][0]["relationships"]["deleted_by"]["data"]["id"] == str(user.id)
        assert pull(client, login(outsider), url, "2000-01-01T00:00:00Z").json["data"] == []


def stamp_in_open_transaction(engine, organization_id, name):
    """A transaction of its own that renames an organization, stamping its version with the
    database clock as the services do, and stays open: commit or roll back the returned pair."""
    writer = engine.connect()
    transaction = writer.begin()
    writer.execute(
        sa.text(
            "UPDATE organizations SET name = :name, "
            "updated_in_db_at = date_trunc('milliseconds', clock_timestamp()), "
            "updated_at = date_trunc('milliseconds', clock_timestamp()) WHERE id = :id"
        ),
        {"id": organization_id, "name": name},
    )
    return writer, transaction


def run_late_commit_scenario(app, api, client, headers, user, organization):
    """A transaction stamps a version and stays open; meanwhile another write commits and a
    pull runs (the committed row is newer than the open write); then the open write commits.
    Returns what the middle pull and the next one (from the middle pull's cursor) bring."""
    with app.app_context():
        engine = db.engine
    first = pull(client, headers, "/api/v2/organizations", "2000-01-01T00:00:00Z").json
    writer, transaction = stamp_in_open_transaction(engine, organization["id"], "Late")
    try:
        time.sleep(0.01)
        api.create_organization(user, name="Meanwhile")  # committed, newer than the open write
        during = pull(
            client, headers, "/api/v2/organizations", first["meta"]["sync"]["cursor"]
        ).json
        transaction.commit()
    finally:
        writer.close()
    after = pull(client, headers, "/api/v2/organizations", during["meta"]["sync"]["cursor"]).json
    return during, after


def names(document) -> list[str]:
    return [resource["attributes"]["name"] for resource in document["data"]]


def test_a_write_committed_late_is_not_skipped_by_the_cursor(app, api, client, login, session):
    """The open transaction holds the cursor back: the committed row younger than it waits,
    and comes with the late write as soon as that commits — not a fixed window later."""
    user = UserFactory()
    organization = api.create_organization(user, name="Before")
    during, after = run_late_commit_scenario(app, api, client, login(user), user, organization)
    assert during["data"] == [] and during["meta"]["sync"]["has_more"] is False
    assert names(after) == ["Late", "Meanwhile"]


def test_without_holding_back_the_late_write_would_be_skipped(
    app, api, client, login, session, monkeypatch
):
    """The same scenario with no hold-back at all: proof that the horizon saves the write."""
    monkeypatch.setitem(app.config, "SYNC_SAFETY_WINDOW_SECONDS", 0)
    monkeypatch.setattr(
        "jsonapi_server.db.pulls.pull_horizon", lambda: utc_now() + timedelta(days=1)
    )
    user = UserFactory()
    organization = api.create_organization(user, name="Before")
    during, after = run_late_commit_scenario(app, api, client, login(user), user, organization)
    assert names(during) == ["Meanwhile"]
    assert "Late" not in names(after)


def test_a_transaction_holds_back_only_what_is_younger_than_it(app, api, client, login, session):
    user = UserFactory()
    headers = login(user)
    older = api.create_organization(user, name="Older")
    with app.app_context():
        engine = db.engine
    time.sleep(0.01)  # the transaction begins a millisecond or more after "Older"'s version
    writer, transaction = stamp_in_open_transaction(engine, older["id"], "Older")
    try:
        time.sleep(0.01)
        api.create_organization(user, name="Younger")
        held = pull(client, headers, "/api/v2/organizations", "2000-01-01T00:00:00Z").json
        assert names(held) == ["Older"]
        assert held["meta"]["sync"]["has_more"] is False
    finally:
        transaction.rollback()
        writer.close()
    released = pull(client, headers, "/api/v2/organizations", held["meta"]["sync"]["cursor"]).json
    assert names(released)[-1] == "Younger"


def test_a_transaction_open_past_the_longest_hold_back_holds_back_no_more(
    app, api, client, login, session, monkeypatch
):
    monkeypatch.setitem(app.config, "SYNC_SAFETY_WINDOW_SECONDS", 0.2)
    user = UserFactory()
    headers = login(user)
    organization = api.create_organization(user, name="Before")
    with app.app_context():
        engine = db.engine
    writer, transaction = stamp_in_open_transaction(engine, organization["id"], "Stuck")
    try:
        api.create_organization(user, name="Fresh")
        time.sleep(0.3)
        document = pull(client, headers, "/api/v2/organizations", "2000-01-01T00:00:00Z").json
        assert "Fresh" in names(document)
    finally:
        transaction.rollback()
        writer.close()


def test_format_of_versions_matches_javascript():
    value = datetime(2021, 11, 23, 14, 38, 3, 250_000, tzinfo=UTC)
    assert format_timestamp(value) == value.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
