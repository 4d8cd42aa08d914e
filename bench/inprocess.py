"""`make bench-inprocess`: the application's own CPU per request for each read workload (and
W3, the create, when asked for with `--only W3`: each request invites a new address), with
no server, load generator or network in between: a seeded throwaway database, the WSGI app
called directly, CPU time (`time.process_time`) over alternating rounds, the best round kept.
Steadier than wrk on a shared machine, so it is the tool for A/B-testing one change;
`--profile W1` prints where that workload's CPU time goes (cProfile, timed by CPU time, so
waiting for the database does not count). `--instructions` counts machine instructions per
request instead, exact and repeatable where timings are not (a shared virtual machine):
  PYTHONHASHSEED=0 valgrind --tool=callgrind --instr-atstart=no \
      .venv/bin/python bench/inprocess.py --instructions --requests 10"""

import argparse
import cProfile
import gc
import io
import itertools
import json
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import access_token, throwaway_database, workloads  # noqa: E402
from bench.seed import seed  # noqa: E402

READS = ("W1", "W2", "W4", "W5")
WORKLOADS = ("W1", "W2", "W3", "W4", "W5")
BODY = "bench.body"  # an environ key: what makes each request's body (W3's)


def environ_for(path: str, token: str, *, body=None) -> dict:
    """The environ of a GET of `path`, or with `body` (a function making each request's
    body) of a POST of a JSON:API document."""
    from werkzeug.test import EnvironBuilder

    headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.api+json"}
    if body is not None:
        headers["Content-Type"] = "application/vnd.api+json"
    builder = EnvironBuilder(
        method="GET" if body is None else "POST",
        path=path.split("?", 1)[0],
        query_string=path.split("?", 1)[1] if "?" in path else "",
        headers=headers,
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    if body is not None:
        environ[BODY] = body
    return environ


_INVITE_NUMBERS = itertools.count()


def new_invite_body() -> bytes:
    """W3's document: an address no request has invited before."""
    address = f"inprocess-{os.getpid()}-{next(_INVITE_NUMBERS)}@bench.test"
    attributes = {"recipient_email": address}
    return json.dumps({"data": {"type": "organization_invites", "attributes": attributes}}).encode()


def call(app, environ: dict) -> bytes:
    status = []

    def start_response(code, headers, exc_info=None):
        status.append(code)

    make_body = environ.get(BODY)
    request_body = make_body() if make_body else b""
    environ = {**environ, "wsgi.input": io.BytesIO(request_body)}
    if make_body:
        environ["CONTENT_LENGTH"] = str(len(request_body))
    body = b"".join(app(environ, start_response))
    if not status[0].startswith("201" if make_body else "200"):
        raise RuntimeError(f"{environ['PATH_INFO']}: {status[0]} {body[:300]!r}")
    return body


def calibration(requests: int) -> float:
    """CPU ms per request of a bare Flask app (bench/ceiling.py) in this round: the yardstick
    by which each round is scaled, as a shared virtual machine's speed drifts between rounds."""
    from bench.ceiling import app as ceiling

    environ = environ_for("/", "")
    started = time.process_time()
    for _ in range(requests * 10):
        call(ceiling, environ)
    return (time.process_time() - started) * 100 / requests


def measure(app, environs: dict, requests: int, rounds: int) -> dict:
    """Per workload, the best of `rounds` rounds, each scaled by its round's calibration to
    the best calibration seen (raw values are kept too)."""
    raw: dict[str, list[float]] = {name: [] for name in environs}
    yardsticks = []
    for _ in range(rounds):
        yardsticks.append(calibration(requests))
        for name, environ in environs.items():
            started = time.process_time()
            for _ in range(requests):
                call(app, environ)
            raw[name].append((time.process_time() - started) * 1000 / requests)
    best_yardstick = min(yardsticks)
    return {
        name: (
            min(
                value * best_yardstick / yardstick
                for value, yardstick in zip(values, yardsticks, strict=True)
            ),
            min(values),
        )
        for name, values in raw.items()
    } | {"calibration": (best_yardstick, best_yardstick)}


def count_instructions(app, environ: dict, requests: int) -> float:
    """Machine instructions per request, counted by callgrind (this process must run under
    `valgrind --tool=callgrind --instr-atstart=no`): instrumentation is switched on for the
    requests only, and the count read from the dump it writes."""
    import glob
    import subprocess

    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "--instr=on", pid], check=True, capture_output=True)
    for _ in range(requests):
        call(app, environ)
    subprocess.run(["callgrind_control", "--instr=off", pid], check=True, capture_output=True)
    before = set(glob.glob(f"callgrind.out.{pid}*"))
    subprocess.run(["callgrind_control", "--dump", pid], check=True, capture_output=True)
    subprocess.run(["callgrind_control", "--zero", pid], check=True, capture_output=True)
    [dump] = set(glob.glob(f"callgrind.out.{pid}*")) - before
    with open(dump) as lines:
        totals = [line for line in lines if line.startswith(("summary:", "totals:"))]
    if os.environ.get("BENCH_KEEP_DUMPS"):
        print(f"  (callgrind_annotate {os.path.abspath(dump)})")
    else:
        os.remove(dump)
    return int(totals[-1].split()[1]) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", choices=WORKLOADS, action="append", help="measure these only")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count machine instructions per request under valgrind's callgrind instead "
        "(exact and repeatable on a noisy machine; run the script under valgrind yourself)",
    )
    parser.add_argument(
        "--request-log",
        action="store_true",
        help="write the request log line, as production does (to /dev/null)",
    )
    parser.add_argument("--profile", choices=WORKLOADS, help="profile one workload instead")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key, with --profile")
    parser.add_argument("--lines", type=int, default=60, help="rows printed, with --profile")
    parser.add_argument("--callees", help="with --profile, what functions matching this call")
    parser.add_argument("--callers", help="with --profile, what calls functions matching this")
    arguments = parser.parse_args()

    os.environ.setdefault("JWT_SECRET_KEY", "bench-secret-key-that-is-long-enough-for-hs256")
    import logging

    if arguments.request_log:
        # As in production, into /dev/null instead of stderr.
        from jsonapi_server.api.request_log import configure_logging

        configure_logging(open(os.devnull, "w"))  # noqa: SIM115 - for the run
    else:
        logging.disable(logging.INFO)  # the request log line is measured only when asked
    with throwaway_database() as database_url:
        import subprocess

        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "jsonapi_server", "db", "upgrade"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url},
            check=True,
            capture_output=True,
        )
        seeded = seed(database_url.replace("postgresql+psycopg2", "postgresql"))
        token = access_token(database_url, seeded.owner)
        from jsonapi_server import create_app

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "JWT_SECRET_KEY": os.environ["JWT_SECRET_KEY"],
                "JWT_ACCESS_TOKEN_SECONDS": 86400,
                "RATELIMIT_ENABLED": False,
            }
        )
        paths = workloads(seeded, "http://localhost")
        environs = {
            name: environ_for(
                "/" + url.split("://", 1)[1].split("/", 1)[1],
                token,
                body=new_invite_body if name == "W3" else None,
            )
            for name, (url, _script) in paths.items()
            if name in (arguments.only or READS)
        }
        for environ in environs.values():  # warm every cache once
            call(app, environ)
        # As wsgi.py does in production: what the application built is out of the collector's
        # full passes (whose timing would otherwise decide the count of a short run).
        from jsonapi_server.worker import settle

        gc.collect()
        settle()
        try:
            if arguments.instructions:
                from bench.ceiling import app as ceiling

                yardstick = {"calibration": environ_for("/", "")}
                for name, environ in {**environs, **yardstick}.items():
                    target = ceiling if name == "calibration" else app
                    count = count_instructions(target, environ, arguments.requests)
                    print(f"{name}: {count:,.0f} instructions per request")
                return
            if arguments.profile:
                profiler = cProfile.Profile(time.process_time)
                with profiler:
                    for _ in range(arguments.requests):
                        call(app, environs[arguments.profile])
                statistics = pstats.Stats(profiler).strip_dirs()
                statistics.sort_stats(arguments.sort).print_stats(arguments.lines)
                if arguments.callees:
                    statistics.print_callees(arguments.callees)
                if arguments.callers:
                    statistics.print_callers(arguments.callers)
                return
            best = measure(app, environs, arguments.requests, arguments.rounds)
            for name, (scaled, raw) in best.items():
                print(
                    f"{name}: {scaled:.3f} ms CPU per request, scaled to the calibration "
                    f"(raw best {raw:.3f}) of {arguments.rounds} rounds"
                )
        finally:
            from jsonapi_server.extensions import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()


if __name__ == "__main__":
    main()
