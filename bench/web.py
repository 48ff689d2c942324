"""Benchmark the web console's pages on a synthetic agency of N employees.

    python bench/web.py [--employees 10000] [--runs 10] [--cold-runs 5] [--seed S]
                        [--db PATH|URL] [--no-agency]

Fills a migrated database with bench/status.py's synthetic agency (a SQLite file in a
temporary directory unless ``--db`` names one), serves the console as ``tenggat web`` does
(uvicorn on 127.0.0.1), signs in the Secretary, a unit head and a staff member through real
sign-in links, and times requests of each page from a client on the same machine: the
agency's home (the Secretary's ``/``), a unit's home (the head's ``/``) and a person's page
(``/employees/NIP``).  It prints the median and the 95th percentile of the wall time of
each answer (the server's time plus a loopback round trip) and its size, twice:

* first: the first request of each page, with nothing kept: computed while it waits;
* changed: ``--cold-runs`` requests, each the first after a change to the records (a name
  written again, which moves their revision as any write does), as after each submission
  recorded.  A home quick to compute is computed afresh; one slower than a second (the
  agency's at 100,000) is shown as it stood while the next is computed in the background
  (`scheduler.web.homes`): the row also gives how long after the change the page showed the
  figures of now ("fresh after");
* warm: ``--runs`` requests with nothing changed in between, as the Secretary opening the
  home again: a kept home is rendered from memory.

A person's page is not kept: its two rows differ only by the noise.  Targets (issue 15): a
unit or person page at most 300 ms p95 at 100,000 employees, the agency home at most 1 s.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import select, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.status import database_url, generate
from rules.calendar import WITA
from scheduler.config import load_config
from scheduler.store import models, signin
from scheduler.store.db import Database
from scheduler.web.app import build
from scheduler.web.server import serve
from scheduler.web.views import WORDS


def session_for(db: Database, base: str, key: str) -> httpx.Client:
    """A client signed in as ``key`` through a link and its button."""
    now = datetime.now(WITA)
    with db.write() as session:
        person = session.scalars(select(models.Employee).where(models.Employee.key == key)).one()
        token = signin.issue_link(session, person, now, 15, "bench").token
    client = httpx.Client(base_url=base, timeout=120)
    page = client.get(f"/masuk/{token}")
    (csrf,) = re.findall(r'name="csrf" value="([^"]+)"', page.text)
    assert client.post(f"/masuk/{token}", data={"csrf": csrf}).status_code == 303
    return client


def change(db: Database, key: str) -> None:
    """Write a name again as it was: the records' revision moves, and nothing else."""
    E = models.Employee
    with db.write() as session:
        session.execute(update(E).where(E.key == key).values(name=E.name))


def timed(
    client: httpx.Client, path: str, runs: int, before: Callable[[], None]
) -> tuple[float, float, int, float]:
    """Median and p95 seconds of ``runs`` GETs of ``path``, each after ``before`` (not
    timed), the answer's bytes, and the median seconds from ``before`` until the page showed
    the figures of now (0 when it showed them at once)."""
    took, fresh_after, size = [], [], 0
    for _ in range(runs):
        before()
        start = time.perf_counter()
        answer = client.get(path)
        took.append(time.perf_counter() - start)
        assert answer.status_code == 200, (path, answer.status_code)
        size = len(answer.content)
        while REFRESHING in answer.text:  # figures of a moment ago: poll until those of now
            time.sleep(0.25)
            answer = client.get(path)
        fresh_after.append(time.perf_counter() - start)
    took.sort()
    p95 = took[min(len(took) - 1, round(0.95 * (len(took) - 1)))]
    return statistics.median(took), p95, size, statistics.median(fresh_after)


REFRESHING = WORDS["id"]["as_of_refreshing"]  # what a home shown as it stood says


def load() -> str:
    """The machine's load averages (1, 5, 15 minutes): other work slows the figures."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=10, help="warm requests per page")
    parser.add_argument(
        "--cold-runs", type=int, default=5, help="requests per page, each after a change"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db")
    parser.add_argument(
        "--no-agency", action="store_true", help="leave out the agency home (slow at 100,000)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        url = database_url(args.db, Path(work))
        db = Database(url)
        db.migrate()
        with db.read() as session:
            empty = session.scalar(select(models.Employee.id).limit(1)) is None
        if empty:
            start = time.perf_counter()
            generate(db, args.employees, args.seed, load_config(None, environ={}).catalog.rules)
            print(f"filled {args.employees} employees in {time.perf_counter() - start:.1f} s")
        config = load_config(None, environ={"TENGGAT_DATABASE_URL": url})
        server = serve(build(db, config), "127.0.0.1", 0)
        base = f"http://127.0.0.1:{server.address[1]}"
        try:
            with db.read() as session:
                rows = session.execute(select(models.Employee.key, models.Employee.roles)).all()
            secretary = next(k for k, r in rows if "secretary" in r.split())
            head = next(k for k, r in rows if "unit_head" in r.split() and "secretary" not in r)
            staff = next(k for k, r in rows if not r)
            pages = (
                [] if args.no_agency else [("agency home", session_for(db, base, secretary), "/")]
            )
            pages += [
                ("unit home", session_for(db, base, head), "/"),
                ("person page", session_for(db, base, staff), f"/employees/{staff}"),
            ]
            print(
                f"{args.employees} employees; first: 1 run; changed: {args.cold_runs} runs,"
                f" each after a change; warm: {args.runs} runs (median, p95, bytes,"
                " fresh after, load after):"
            )
            for name, client, path in pages:
                for kind, runs, before in (
                    ("first", 1, lambda: None),
                    ("changed", args.cold_runs, lambda: change(db, staff)),
                    ("warm", args.runs, lambda: None),
                ):  # each kind leaves its home kept for the next
                    median, p95, size, fresh = timed(client, path, runs, before)
                    print(
                        f"  {name:12} {kind:7} {median * 1000:8.0f} ms {p95 * 1000:8.0f} ms"
                        f" {size:>10,} {fresh:6.1f} s  load {load()}"
                    )
        finally:
            server.stop()
            db.engine.dispose()


if __name__ == "__main__":
    main()
