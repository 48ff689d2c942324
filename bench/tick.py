"""Benchmark the service's tick as it runs, delivery excluded, on a database of N employees.

    python bench/tick.py [--employees N] [--db PATH|URL] [--seed S] [--profile TICK]
                         [--set-based]

Fills a migrated database (a SQLite file in a temporary directory unless ``--db`` names a
file or a URL; give PostgreSQL an empty database or schema of its own) with the synthetic
agency of ``bench/status.py`` (its generator, not a copy; with ``--set-based``, on
PostgreSQL, the same shape drawn by the server, `bench.agency_sql`: minutes at 1,000,000
employees, where Python's takes an hour), then runs four ticks in turn, each
in a fresh process as `tenggat run --once` would be, through the stages `Service.tick` runs
before it dispatches (`scheduler.service.planning.plan_and_queue`, then the digests):

- ``changes``: the plan mark and what changed since it (rows: the people to plan, 0 for all);
- ``read``: ``records.snapshot``, the roster, assignments, submissions and events (rows: the
  people read);
- ``evaluate``: ``rules.evaluate``, a status for every occurrence;
- ``plan``: ``rules.plan``, the notices that should exist now;
- ``write``: ``outbox.enqueue`` and the plan mark;
- ``digests``: the week's digests (`Service.queue_digests`).

A tick with nothing new ends after ``changes``.

The ticks: the first (an empty outbox, Monday 3 March 2025 09:00 WITA); one with nothing
new (09:15); one after 1% of the people submitted what they owed (09:30, the submissions
written before it, untimed); and the first after midnight, on Friday 7 March 08:15 (after an
untimed tick on Thursday at 17:00), when SKP's H+5 step falls due: every SKP still owed
escalates to the Secretary.  For each stage: seconds, the process's peak RSS once it is
done, and the rows it made (statuses, notices planned, outbox rows written).  The tick
``--profile`` names (first, quiet, submitted, midnight) is profiled with cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, update

from bench.agency_sql import generate_sql
from bench.evaluate import peak_mb
from bench.status import database_url, generate
from rules.calendar import WITA
from rules.catalog import Scope
from rules.evaluate import Status, evaluate
from scheduler.config import load_config
from scheduler.service import planning
from scheduler.service.tick import Service
from scheduler.store import models, records
from scheduler.store.db import Database

TICKS = {
    "first": datetime(2025, 3, 3, 9, 0, tzinfo=WITA),
    "quiet": datetime(2025, 3, 3, 9, 15, tzinfo=WITA),
    "submitted": datetime(2025, 3, 3, 9, 30, tzinfo=WITA),
    "midnight": datetime(2025, 3, 7, 8, 15, tzinfo=WITA),
}
EVE = datetime(2025, 3, 6, 17, 0, tzinfo=WITA)  # the tick before midnight, untimed
SUBMITTED_AT = datetime(2025, 3, 3, 9, 20, tzinfo=WITA)
SHARE = 0.01  # of the people, who submit what they owe before the third tick


def own_peak_mb() -> float:
    """This process's own peak RSS in MB: Linux's ``VmHWM``, which starts afresh at exec.
    ``getrusage``'s maximum is inherited across fork and exec, so a tick's process would
    report the bench's own peak (its generator's) as soon as it starts."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_mb()


def one_tick(url: str, now: datetime, profile: bool) -> dict[str, Any]:
    """The stages of `Service.tick` before dispatch, timed in this (fresh) process."""
    service = Service(load_config(environ={"TENGGAT_DATABASE_URL": url}), lambda: now)
    profiler = cProfile.Profile() if profile else None
    stages: list[tuple[str, float, float, int]] = []
    started = time.perf_counter()

    def done(stage: str, rows: int) -> None:
        nonlocal started
        stages.append((stage, time.perf_counter() - started, own_peak_mb(), rows))
        started = time.perf_counter()

    if profiler is not None:
        profiler.enable()
    planning.plan_and_queue(service.config, service.db, now, done)
    done("digests", service.queue_digests(now))
    if profiler is not None:
        profiler.disable()
        stream = sys.stderr
        stats = pstats.Stats(profiler, stream=stream)
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(15)
    service.db.engine.dispose()
    return {"stages": stages}


def submit_share(url: str, share: float, seed: int) -> int:
    """Record, for ``share`` of the people who owe something now, every personal obligation
    they owe (a submission each at `SUBMITTED_AT`): what a tick after a wave of reports sees.
    Returns the submissions written."""
    service = Service(load_config(environ={"TENGGAT_DATABASE_URL": url}), lambda: SUBMITTED_AT)
    with service.db.read() as session:
        snap = records.snapshot(session, service.config.catalog, since_year=2024)
        ids = {k: i for k, i in session.execute(select(models.Employee.key, models.Employee.id))}
    evaluation = evaluate(
        service.schedule, snap.roster, snap.submissions, snap.events, SUBMITTED_AT
    )
    catalog = service.config.catalog
    owed: dict[str, list[tuple[str, str]]] = {}
    for status in evaluation.statuses:
        personal = catalog.get(status.rule).scope is Scope.PERSONAL
        if personal and status.status is Status.OVERDUE and status.submitted_at is None:
            owed.setdefault(status.employee, []).append((status.rule, status.period))
    rng = random.Random(seed)
    wanted = max(1, round(len(snap.roster.people) * share))
    chosen = rng.sample(sorted(owed), min(wanted, len(owed)))
    rows = [
        {
            "employee_id": ids[key],
            "rule_code": rule,
            "period": period,
            "submitted_at": SUBMITTED_AT,
            "evidence": "",
            "source": "import",
            "recorded_by": "bench",
            "recorded_at": SUBMITTED_AT,
        }
        for key in chosen
        for rule, period in owed[key]
    ]
    with service.db.write() as session:
        session.execute(insert(models.Submission), rows)
    service.db.engine.dispose()
    return len(rows)


def no_later_than(database: Database, moment: datetime) -> int:
    """Date back to ``moment`` the submissions the generator dates later that day: made for
    a status "as of 3 March", it hands some in between 09:00 and 17:00, while a service
    ticking at 09:00 has records of what was handed in by then, not after.  Evaluation
    leaves a later one out until its moment, so a plan would hold only until the next of
    them, minutes away.  Returns the rows changed."""
    table = models.Submission
    later = update(table).where(table.submitted_at > moment).values(submitted_at=moment)
    with database.write() as session:
        return int(getattr(session.execute(later), "rowcount", 0) or 0)


def child(url: str, name: str, profile: bool, seed: int) -> None:
    if name == "submit":  # in a process of its own too: at 1,000,000 it evaluates everyone
        print(json.dumps({"written": submit_share(url, SHARE, seed)}))
        return
    print(json.dumps(one_tick(url, EVE if name == "eve" else TICKS[name], profile)))


def run_child(url: str, name: str, profile: bool, seed: int) -> dict[str, Any]:
    """One tick in a fresh interpreter, as `tenggat run --once` starts."""
    command = [sys.executable, __file__, "--db", url, "--child", name, "--seed", str(seed)]
    if profile:
        command.append("--profile-child")
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"tick {name} failed ({done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=10_000, help="default 10000")
    parser.add_argument("--db", help="SQLite file or database URL (default: a temporary file)")
    parser.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    parser.add_argument("--profile", choices=sorted(TICKS), help="profile this tick")
    parser.add_argument(
        "--set-based", action="store_true", help="PostgreSQL: generate the agency in SQL"
    )
    parser.add_argument("--child", choices=[*TICKS, "eve", "submit"], help=argparse.SUPPRESS)
    parser.add_argument("--profile-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.db, args.child, args.profile_child, args.seed)
        return
    if args.employees < 2:
        parser.error("--employees must be at least 2 (a Secretary and one more)")
    if args.set_based and "postgresql" not in (args.db or ""):
        parser.error("--set-based generates on PostgreSQL: give --db a postgresql URL")

    with tempfile.TemporaryDirectory(prefix="tenggat-bench-") as tmp:
        os.chdir(tmp)  # no config.toml here: the built-in defaults
        url = database_url(args.db, Path(tmp))
        database = Database(url)
        print(f"tenggat tick bench: {args.employees:,} employees, {database.safe_url}")
        database.migrate()
        with database.read() as session:
            present = session.scalar(select(func.count()).select_from(models.Employee)) or 0
        if present:
            sys.exit(f"the database already holds {present} employees: give it an empty one")
        started = time.perf_counter()
        make = generate_sql if args.set_based else generate
        counts = make(database, args.employees, args.seed, load_config(environ={}).catalog.rules)
        took = time.perf_counter() - started
        print(f"  generated in {took:.1f} s: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
        print(f"  ({no_later_than(database, TICKS['first']):,} submissions dated back to 09:00)")
        database.engine.dispose()

        print(f"{'tick':<10}{'stage':<10}{'seconds':>9}{'peak MB':>9}{'rows':>10}")
        for name in TICKS:
            if name == "submitted":
                written = run_child(url, "submit", False, args.seed)["written"]
                print(f"  ({written:,} submissions by {SHARE:.0%} of the people, untimed)")
            if name == "midnight":
                run_child(url, "eve", False, args.seed)
            result = run_child(url, name, args.profile == name, args.seed)
            total = 0.0
            for stage, seconds, peak, rows in result["stages"]:
                total += seconds
                print(f"{name:<10}{stage:<10}{seconds:9.2f}{peak:9.0f}{rows:10,}")
            print(f"{name:<10}{'total':<10}{total:9.2f}{result['stages'][-1][2]:9.0f}")
        os.chdir("/")  # leave the temporary directory before it is removed


if __name__ == "__main__":
    main()
