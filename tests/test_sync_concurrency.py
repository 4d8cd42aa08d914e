"""Pulls under real concurrency: writers, some inside transactions held open for a random
time, change one organization's channels through gunicorn's worker processes while a puller
pages through them. The puller ends with exactly the database's state, and no pull stopped
short of a committed change it could have passed."""

import random
import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from jsonapi_server.config import normalize_database_url
from jsonapi_server.db.pulls import parse_since
from jsonapi_server.jsonapi.timestamps import format_timestamp

from .served import served

# The oldest start of a transaction open now, the checker's own left out, to the millisecond
# (versions are truncated to it): committed changes older than this can all be pulled.
OLDEST_OPEN = sa.text(
    """
    SELECT date_trunc('milliseconds', least(clock_timestamp(), (
        SELECT min(xact_start) FROM pg_stat_activity
        WHERE datname = current_database() AND backend_type = 'client backend'
          AND pid <> pg_backend_pid()
    )))
    """
)
PASSABLE_LEFT_BEHIND = sa.text(
    """
    SELECT count(*) FROM channels
    WHERE organization_id = :organization
      AND updated_in_db_at < :oldest_open
      AND (updated_in_db_at > :version OR (updated_in_db_at = :version AND id > :after_id))
    """
)
STAMPED_UPDATE = sa.text(
    """
    UPDATE channels SET description = :description,
        updated_in_db_at = greatest(date_trunc('milliseconds', clock_timestamp()),
                                    updated_in_db_at + interval '1 millisecond'),
        updated_at = greatest(date_trunc('milliseconds', clock_timestamp()),
                              updated_in_db_at + interval '1 millisecond')
    WHERE id = :id
    """
)
NIL = uuid.UUID(int=0)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served(tmp_path_factory.mktemp("sync"), workers=4, prefix="jsonapi_server_sync") as app:
        yield app


@pytest.fixture(scope="module")
def engine(server):
    engine = sa.create_engine(normalize_database_url(server.database_url), pool_size=10)
    yield engine
    engine.dispose()


class Run:
    """One randomized run's shared state."""

    def __init__(self, server, engine, token, organization, seed):
        self.server, self.engine, self.token = server, engine, token
        self.organization = organization
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.channels: list[str] = []
        self.writing = True
        self.errors: list[str] = []
        self.pulls = self.pages_with_more = self.held_open = 0

    def pick(self) -> tuple[float, str | None]:
        with self.lock:
            return self.random.random(), (
                self.random.choice(self.channels) if self.channels else None
            )

    def hold(self) -> float:
        with self.lock:
            return self.random.uniform(0.01, 0.15)

    def write(self, number: int, *, create: bool = False) -> None:
        roll, channel = self.pick()
        base = f"/api/v2/organizations/{self.organization}/channels"
        if create or channel is None or roll < 0.3:
            document = {"data": {"type": "channels", "attributes": {"name": f"c{uuid.uuid4()}"}}}
            status, _headers, body = self.server.call("POST", base, document, self.token)
            if status != 201:
                self.errors.append(f"create: {status} {body}")
                return
            with self.lock:
                self.channels.append(body["data"]["id"])
        elif roll < 0.85:
            locker = None
            if roll < 0.45:  # the app's write waits behind a row lock: its transaction stays open
                locker = threading.Thread(target=self.lock_row, args=(channel, self.hold()))
                locker.start()
                time.sleep(0.005)
            document = {
                "data": {
                    "type": "channels",
                    "id": channel,
                    "attributes": {"description": f"{number}"},
                }
            }
            status, _headers, body = self.server.call(
                "PATCH", f"{base}/{channel}", document, self.token
            )
            if status != 200:
                self.errors.append(f"update: {status} {body}")
            if locker is not None:
                locker.join()
        else:  # a write stamped now that commits a while later
            with self.engine.connect() as connection, connection.begin():
                connection.execute(STAMPED_UPDATE, {"id": channel, "description": f"late {number}"})
                with self.lock:
                    self.held_open += 1
                time.sleep(self.hold())

    def lock_row(self, channel: str, seconds: float) -> None:
        with self.engine.connect() as connection, connection.begin():
            connection.execute(
                sa.text("SELECT 1 FROM channels WHERE id = :id FOR UPDATE"), {"id": channel}
            )
            with self.lock:
                self.held_open += 1
            time.sleep(seconds)

    def pull_until_caught_up(self) -> dict[str, str]:
        """Pull pages of ten until writing has stopped and a pull finds nothing; the merged
        state: each channel's latest version seen."""
        merged: dict[str, str] = {}
        cursor = "2000-01-01T00:00:00Z"
        url = f"/api/v2/organizations/{self.organization}/channels?page[size]=10"
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as checker:
            while True:
                still_writing = self.writing
                oldest_open = checker.execute(OLDEST_OPEN).scalar_one()
                status, _headers, body = self.server.call(
                    "GET", f"{url}&filter[updated_since]={cursor}", token=self.token
                )
                assert status == 200, body
                self.pulls += 1
                for channel in body["data"]:
                    version = channel["attributes"]["updated_in_db_at"]
                    if merged.get(channel["id"], "") > version:
                        self.errors.append(f"pull went back in time for {channel['id']}")
                    merged[channel["id"]] = version
                sync = body["meta"]["sync"]
                if sync["has_more"]:
                    self.pages_with_more += 1
                else:
                    position = parse_since(sync["cursor"])
                    left_behind = checker.execute(
                        PASSABLE_LEFT_BEHIND,
                        {
                            "organization": self.organization,
                            "oldest_open": oldest_open,
                            "version": position.version,
                            "after_id": position.id or NIL,
                        },
                    ).scalar_one()
                    if left_behind:
                        self.errors.append(
                            f"has_more false with {left_behind} passable changes left behind"
                        )
                if body["data"] and sync["cursor"] == cursor:
                    self.errors.append("a pull delivered rows and kept its cursor")
                cursor = sync["cursor"]
                if not still_writing and not body["data"] and not sync["has_more"]:
                    return merged


def run_randomized(server, engine, writes: int, seed: int) -> Run:
    token = server.register(f"sync-{uuid.uuid4().hex}@example.com")
    document = {"data": {"type": "organizations", "attributes": {"name": "Sync"}}}
    status, _headers, body = server.call("POST", "/api/v2/organizations", document, token)
    assert status == 201, body
    run = Run(server, engine, token, body["data"]["id"], seed)
    for number in range(25):  # a burst before the puller starts: its first pulls have more
        run.write(-1 - number, create=True)

    def writer(numbers):
        for number in numbers:
            run.write(number)

    writers = [threading.Thread(target=writer, args=(range(n, writes, 4),)) for n in range(4)]
    for thread in writers:
        thread.start()
    merged: dict[str, str] = {}
    puller = threading.Thread(target=lambda: merged.update(run.pull_until_caught_up()))
    puller.start()
    for thread in writers:
        thread.join()
    run.writing = False
    puller.join(timeout=120)
    assert not puller.is_alive(), "the puller never caught up"
    with engine.connect() as connection:
        stored = {
            str(row.id): format_timestamp(row.updated_in_db_at)
            for row in connection.execute(
                sa.text("SELECT id, updated_in_db_at FROM channels WHERE organization_id = :o"),
                {"o": run.organization},
            )
        }
    assert run.errors == []
    assert merged == stored
    return run


def test_a_puller_paging_beside_concurrent_writers_ends_with_the_database_state(server, engine):
    run = run_randomized(server, engine, writes=300, seed=17)
    # the run did what it is for: pages that had more, and writes held open during pulls
    assert run.pages_with_more > 0 and run.held_open > 20 and run.pulls > 10


@pytest.mark.long
def test_a_long_randomized_sync_run(server, engine):
    run_randomized(server, engine, writes=3000, seed=int(time.time()))
