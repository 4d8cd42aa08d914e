"""`make bench`: seed a throwaway PostgreSQL database, serve the application and a bare-Flask
ceiling under the same gunicorn settings, drive each workload with wrk in alternating rounds,
and report requests/s, p50/p99, SQL statements and worker CPU per request, and the ratio to
the ceiling; then how soon a committed write reaches a pull (bench/freshness.py). Results go
to stdout and bench/results/latest.json."""

import json
import logging
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import freshness  # noqa: E402
from bench.seed import SEEDED_INVITES, seed, top_up_invites  # noqa: E402

SERVER_URL = os.environ.get(
    "BENCH_DATABASE_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres"
)
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
WORKERS = 2
TOP_UP_TO = int(os.environ.get("BENCH_LARGE_INVITES", "1000000"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(port)


@contextmanager
def throwaway_database(copy_of: str | None = None):
    """A new database (a copy of the database at URL `copy_of`, if given), dropped after."""
    name = f"jsonapi_server_bench_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(SERVER_URL)
    admin = sa.create_engine(
        urlunsplit(parts._replace(scheme="postgresql+psycopg2")), isolation_level="AUTOCOMMIT"
    )
    template = f' TEMPLATE "{urlsplit(copy_of).path.lstrip("/")}"' if copy_of else ""
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"{template}'))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def gunicorn(app: str, port: int, environment: dict):
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", app],
        cwd=ROOT,
        env={
            **environment,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(WORKERS),
            "GUNICORN_LOG_LEVEL": "warning",
            # workers must live through the run: their CPU time is read from /proc
            "GUNICORN_MAX_REQUESTS": "0",
            "GUNICORN_MAX_REQUESTS_JITTER": "0",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        time.sleep(1)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def worker_cpu_seconds(master: subprocess.Popen) -> float:
    """utime + stime of the gunicorn workers (children of the master), from /proc."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    total = 0
    for pid in children:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def wrk(
    url: str,
    script: str,
    token: str,
    seconds: int,
    *,
    connections: int = CONNECTIONS,
    delay_ms: float = 0,
) -> dict:
    output = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "wrk" / script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "BENCH_TOKEN": token, "BENCH_DELAY_MS": str(round(delay_ms))},
    ).stdout
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": requests,
        "rps": requests / seconds,
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
        "p50_ms": _latency(output, "50%"),
        "p99_ms": _latency(output, "99%"),
    }


def _latency(output: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", output).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def paced(url: str, script: str, token: str, peak_rps: float) -> dict:
    """p50/p99 at 80 % of peak throughput: each connection waits between requests (wrk's
    delay()) so that together they offer 80 % of the peak. The wait is set from the service
    time, then corrected once from the rate a first run reached."""
    target = 0.8 * peak_rps
    cycle_ms = CONNECTIONS * 1000 / target  # each connection's time per request
    delay = max(0.0, cycle_ms - WORKERS * 1000 / peak_rps)
    trial = wrk(url, script, token, SECONDS, delay_ms=delay)
    delay = max(0.0, delay + CONNECTIONS * 1000 * (1 / target - 1 / max(trial["rps"], 1)))
    run = wrk(url, script, token, SECONDS * ROUNDS, delay_ms=delay)
    return {
        "target_rps": round(target, 1),
        "rps": round(run["rps"], 1),
        "p50_ms": round(run["p50_ms"], 2),
        "p99_ms": round(run["p99_ms"], 2),
        "errors": run["errors"],
    }


def scanned_relations(database_url: str, statements: list) -> list[str]:
    """Relations some plan of these statements reads with a sequential scan."""
    import psycopg2

    found: set[str] = set()

    def walk(node: dict) -> None:
        if node.get("Node Type") == "Seq Scan":
            found.add(node["Relation Name"])
        for child in node.get("Plans", []):
            walk(child)

    dsn = database_url.replace("+psycopg2", "")
    with closing(psycopg2.connect(dsn)) as connection, connection, connection.cursor() as cursor:
        for statement, parameters in statements:
            cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
            walk(cursor.fetchone()[0][0]["Plan"])
    return sorted(found)


def response_size(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return len(response.read())


def workloads(seeded, base: str) -> dict:
    big = f"{base}/api/v2/organizations/{seeded.big_organization}"
    return {
        "W1": (f"{big}/invites?page[number]=3&page[size]=25&include=invited_by_user", "get.lua"),
        "W2": (f"{big}/invites/{seeded.big_invites[1234]}", "get.lua"),
        "W3": (f"{big}/invites", "create_invite.lua"),
        "W4": (
            f"{big}/invites?filter[updated_since]={seeded.pull_since}&page[size]=100",
            "get.lua",
        ),
        "W5": (f"{base}/api/v2/organizations?include=owner", "get.lua"),
    }


def sql_per_request(database_url: str, paths: dict, token: str) -> dict:
    """Statements (with parameters) each workload's request runs, recorded by the application's
    own listener."""
    from jsonapi_server import create_app
    from jsonapi_server.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "JWT_SECRET_KEY": os.environ["JWT_SECRET_KEY"],
            "RATELIMIT_ENABLED": False,
        }
    )
    counts = {}
    with app.app_context():
        engine = db.engine
    client = app.test_client()
    for name, (url, script) in paths.items():
        path = url.split("://", 1)[1].split("/", 1)[1]
        statements = []

        def count(_conn, _cursor, statement, parameters, *_args, statements=statements):
            statements.append((statement, parameters))

        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/vnd.api+json"}
        body = None
        if script == "create_invite.lua":
            body = json.dumps(
                {
                    "data": {
                        "type": "organization_invites",
                        "attributes": {"recipient_email": f"sql-{uuid.uuid4().hex}@bench.test"},
                    }
                }
            )
        method = "POST" if body else "GET"
        client.open("/" + path, method=method, data=body, headers=headers)  # warm
        if body:
            body = body.replace("sql-", "sql2-")
        sa.event.listen(engine, "after_cursor_execute", count)
        client.open("/" + path, method=method, data=body, headers=headers)
        sa.event.remove(engine, "after_cursor_execute", count)
        counts[name] = statements
    engine.dispose()
    return counts


def access_token(database_url: str, user_id) -> str:
    from jsonapi_server import create_app
    from jsonapi_server.extensions import db
    from jsonapi_server.models import User
    from jsonapi_server.services import tokens

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "JWT_SECRET_KEY": os.environ["JWT_SECRET_KEY"]}
    )
    with app.app_context():
        token = tokens.open_session(db.session.get(User, user_id)).access_token
        db.session.remove()
        db.engine.dispose()
    return token


def main() -> None:
    os.environ.setdefault("JWT_SECRET_KEY", "bench-secret-key-that-is-long-enough-for-hs256")
    logging.basicConfig(level=logging.WARNING)  # the in-process counting run stays quiet
    report = {"workloads": {}, "machine": machine(), "versions": versions()}
    with throwaway_database() as database_url:
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "RATELIMIT_ENABLED": "false",
            "JWT_ACCESS_TOKEN_SECONDS": "86400",
            "JSONAPI_SERVER_ENV": "development",
        }
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "jsonapi_server", "db", "upgrade"],
            cwd=ROOT,
            env=environment,
            check=True,
            capture_output=True,
        )
        started = time.perf_counter()
        seeded = seed(database_url.replace("postgresql+psycopg2", "postgresql"))
        print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
        token = access_token(database_url, seeded.owner)
        app_port, ceiling_port = free_port(), free_port()
        paths = workloads(seeded, f"http://127.0.0.1:{app_port}")
        sql = sql_per_request(database_url, paths, token)
        w1_path = "/" + paths["W1"][0].split("://", 1)[1].split("/", 1)[1]
        report["table_size"] = compare_table_sizes(
            database_url, environment, w1_path, token, sql["W1"]
        )
        with gunicorn("wsgi:app", app_port, environment) as app_master:
            for name, (url, script) in paths.items():
                body_bytes = response_size(url, token) if script == "get.lua" else 2000
                ceiling_env = {**environment, "BENCH_BODY_BYTES": str(body_bytes)}
                with gunicorn("bench.ceiling:app", ceiling_port, ceiling_env) as ceiling_master:
                    ceiling_url = f"http://127.0.0.1:{ceiling_port}/"
                    wrk(url, script, token, 2)  # warm-up
                    wrk(ceiling_url, script, token, 2)
                    app_runs, ceiling_runs, cpu, ceiling_cpu = [], [], 0.0, 0.0
                    for _ in range(ROUNDS):
                        before = worker_cpu_seconds(app_master)
                        app_runs.append(wrk(url, script, token, SECONDS))
                        cpu += worker_cpu_seconds(app_master) - before
                        before = worker_cpu_seconds(ceiling_master)
                        ceiling_runs.append(wrk(ceiling_url, script, token, SECONDS))
                        ceiling_cpu += worker_cpu_seconds(ceiling_master) - before
                requests = sum(run["requests"] for run in app_runs)
                rps = requests / (ROUNDS * SECONDS)
                ceiling_requests = sum(run["requests"] for run in ceiling_runs)
                ceiling_rps = ceiling_requests / (ROUNDS * SECONDS)
                report["workloads"][name] = {
                    "rps": round(rps, 1),
                    "p50_ms": round(sorted(r["p50_ms"] for r in app_runs)[ROUNDS // 2], 2),
                    "p99_ms": round(max(r["p99_ms"] for r in app_runs), 2),
                    "sql_per_request": len(sql[name]),
                    "cpu_ms_per_request": round(cpu * 1000 / requests, 3),
                    "ceiling_rps": round(ceiling_rps, 1),
                    # the machine's speed in this run: the same framework's CPU per request
                    "ceiling_cpu_ms_per_request": round(ceiling_cpu * 1000 / ceiling_requests, 3),
                    "ceiling_ratio": round(rps / ceiling_rps, 4),
                    "body_bytes": body_bytes,
                    "errors": sum(run["errors"] for run in app_runs),
                    "at_80_percent_of_peak": paced(url, script, token, rps),
                }
                print_row(name, report["workloads"][name])
            # No other transaction is open now: the outbox worker is not running here.
            base = f"http://127.0.0.1:{app_port}"
            report["freshness"] = freshness.measure(base, token, seeded.big_organization)
            print("freshness (write answered -> first pull delivering it):", report["freshness"])
    out = ROOT / "bench" / "results" / "latest.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


def compare_table_sizes(
    database_url: str, environment: dict, path: str, token: str, statements: list
) -> dict:
    """W1's latency with the seeded invites and with 1,000,000 (a copy of the database, topped
    up), one request at a time so that queueing does not hide the database's part: both apps
    run at once and take turns, so machine drift hits both alike. Also the relations W1's
    statements read with a sequential scan at the larger size (invites should not be one)."""
    with throwaway_database(copy_of=database_url) as large_url:
        started = time.perf_counter()
        total = top_up_invites(large_url.replace("postgresql+psycopg2", "postgresql"), TOP_UP_TO)
        print(f"invites topped up to {total:,} in {time.perf_counter() - started:.1f} s")
        small_port, large_port = free_port(), free_port()
        large_environment = {**environment, "DATABASE_URL": large_url}
        with (
            gunicorn("wsgi:app", small_port, environment),
            gunicorn("wsgi:app", large_port, large_environment),
        ):
            urls = {
                "small": f"http://127.0.0.1:{small_port}{path}",
                "large": f"http://127.0.0.1:{large_port}{path}",
            }
            runs: dict[str, list] = {"small": [], "large": []}
            for url in urls.values():
                wrk(url, "get.lua", token, 2, connections=1)  # warm-up
            for _ in range(ROUNDS):
                for size, url in urls.items():
                    runs[size].append(wrk(url, "get.lua", token, SECONDS, connections=1))
        seq_scans = scanned_relations(large_url, statements)
    p50 = {size: sorted(r["p50_ms"] for r in rounds)[ROUNDS // 2] for size, rounds in runs.items()}
    result = {
        "invites_small": SEEDED_INVITES,
        "invites_large": total,
        "w1_p50_ms_small": p50["small"],
        "w1_p50_ms_large": p50["large"],
        "p50_ratio_large_to_small": round(p50["large"] / p50["small"], 3),
        "w1_seq_scans_at_large": seq_scans,
    }
    print(
        f"W1 one at a time: {SEEDED_INVITES:,} invites p50 {p50['small']:.2f} ms, "
        f"{total:,} invites p50 {p50['large']:.2f} ms "
        f"(x{result['p50_ratio_large_to_small']}); sequential scans: {seq_scans or 'none'}",
        flush=True,
    )
    return result


def print_row(name: str, row: dict) -> None:
    print(
        f"{name}: {row['rps']:8.1f} req/s  p50 {row['p50_ms']:6.2f} ms  "
        f"p99 {row['p99_ms']:7.2f} ms  "
        f"sql {row['sql_per_request']}  cpu {row['cpu_ms_per_request']:6.2f} ms/req  "
        f"ceiling {row['ceiling_rps']:8.1f} req/s ({row['ceiling_cpu_ms_per_request']:.2f} ms)  "
        f"ratio {row['ceiling_ratio'] * 100:5.1f} %"
        f"  (non-2xx: {row['errors']})",
        flush=True,
    )
    at = row["at_80_percent_of_peak"]
    print(
        f"    at 80 % of peak ({at['target_rps']:.0f} req/s offered, {at['rps']:.0f} served): "
        f"p50 {at['p50_ms']:.2f} ms  p99 {at['p99_ms']:.2f} ms",
        flush=True,
    )


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def versions() -> dict:
    from importlib.metadata import version

    names = [
        "flask",
        "marshmallow",
        "marshmallow-jsonapi",
        "sqlalchemy",
        "gunicorn",
        "psycopg2-binary",
    ]
    found = {name: version(name) for name in names}
    found["wrk"] = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[1]
    found["postgresql"] = subprocess.run(
        ["psql", "--version"], capture_output=True, text=True
    ).stdout.split()[-1]
    return found


if __name__ == "__main__":
    main()
