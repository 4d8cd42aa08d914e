"""How soon a committed write reaches a pull: each of a run of writes is answered (so it has
committed), then pulled for from the cursor before it until a pull delivers it."""

import http.client
import json
import statistics
import time
from urllib.parse import urlsplit


class Client:
    """One kept-alive connection to the served application, as a syncing client holds."""

    def __init__(self, base: str, token: str):
        address = urlsplit(base)
        self.connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/vnd.api+json",
        }

    def send(self, method: str, path: str, body: dict | None = None) -> dict:
        payload = json.dumps(body) if body is not None else None
        self.connection.request(method, path, body=payload, headers=self.headers)
        response = self.connection.getresponse()
        document = json.loads(response.read())
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {document}")
        return document


def measure(base: str, token: str, organization_id, writes: int = 200) -> dict:
    """Median and p99 milliseconds from a write's answer to the first pull that delivers it,
    and how many pulls that took at most (one: no pull had to wait)."""
    client = Client(base, token)
    resource = f"/api/v2/organizations/{organization_id}"
    pulls = "/api/v2/organizations?page[size]=100&filter[updated_since]="
    cursor = client.send("GET", pulls + "2000-01-01T00:00:00Z")["meta"]["sync"]["cursor"]
    while True:  # start from the end of what is stored
        page = client.send("GET", pulls + cursor)["meta"]["sync"]
        if page["cursor"] == cursor:
            break
        cursor = page["cursor"]
    delays, most_pulls = [], 0
    for number in range(writes):
        body = {
            "data": {
                "type": "organizations",
                "id": str(organization_id),
                "attributes": {"description": f"freshness {number}"},
            }
        }
        version = client.send("PATCH", resource, body)["data"]["attributes"]["updated_in_db_at"]
        answered = time.perf_counter()
        for attempt in range(1, 10_000):
            document = client.send("GET", pulls + cursor)
            cursor = document["meta"]["sync"]["cursor"]
            if any(
                item["id"] == str(organization_id)
                and item["attributes"]["updated_in_db_at"] == version
                for item in document["data"]
            ):
                delays.append((time.perf_counter() - answered) * 1000)
                most_pulls = max(most_pulls, attempt)
                break
        else:
            raise RuntimeError(f"write {number} never reached a pull")
    ordered = sorted(delays)
    return {
        "writes": writes,
        "median_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        "most_pulls_until_delivered": most_pulls,
    }
