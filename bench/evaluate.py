"""Benchmark the rule engine: ``evaluate`` and ``plan`` for a synthetic agency of N employees.

    python bench/evaluate.py [--employees N] [--seed S] [--now 2025-03-03T09:00] [--profile]

The roster follows the obligation profiles of the seed IKI (58 people): one Secretary carrying
all fifteen codes; about 8 in 58 heads and analysts carrying SKP, LHKPN, EPANTAU, PK, MR and
SERAPAN, most of them SPT, a few SKM_RTL/RKBM/SHS or LKJP/SPP; everybody else staff carrying
SKP, SPT and PK, about one in ten also SERAPAN.  Staff report to a head, heads to the
Secretary.  APBD 2025 was adopted on 2024-12-20 (PK 2025 due 2025-01-20).  Submissions for
the 2025 occurrences (and the late-2024 ones still in the evaluation window) are random: most
on time, some late, some missing, none after ``now``.

Times one ``evaluate`` and one ``plan`` on a fresh Schedule (cold caches, as in a new
process) with ``time.perf_counter``, and reports resident memory: ``ru_maxrss`` is a
high-water mark, so the figure before the data is generated shows the interpreter and
libraries, and the growth after it the roster, the submissions and the engine.
Standard library and the project only.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import resource
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.seed import STAFF_CODES, head_codes
from rules.calendar import WITA, LegalCalendar
from rules.catalog import Catalog, Scope, Source, load_catalog
from rules.evaluate import (
    Assignment,
    Person,
    Roster,
    Submission,
    default_window,
    evaluate,
)
from rules.plan import plan
from rules.schedule import Event, Schedule, index_events
from scheduler.memory import paused_gc

YEAR = 2025
APBD = Event("APBD_ADOPTED", str(YEAR), date(2024, 12, 20))
SECRETARY = "SEKR"
HEAD_SHARE = 8 / 58  # heads and analysts in the seed: B2-B9 of 58 people
ON_TIME, LATE = 0.80, 0.12  # the remaining 8 % never submit


def peak_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, else KB


def current_mb() -> float | None:
    """Resident set size now, in MB (Linux only; None elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def shipped_catalog() -> Catalog:
    text = resources.files("rules").joinpath("catalog.toml").read_text(encoding="utf-8")
    return load_catalog([Source("rules/catalog.toml", text)])


def build_roster(catalog: Catalog, employees: int, rng: random.Random) -> Roster:
    """One Secretary, ~8/58 heads reporting to them, staff reporting to a random head.

    Every obligation starts on 1 January of the IKI's year, as `tenggat import-iki` records
    it, so nothing of the year before is owed."""
    since = date(YEAR, 1, 1)
    heads = max(1, round((employees - 1) * HEAD_SHARE))
    staff = max(0, employees - 1 - heads)
    people = {SECRETARY: Person(SECRETARY)}
    assignments = [Assignment(SECRETARY, code, since=since) for code in catalog.rules]
    head_ids = [f"K{i:06d}" for i in range(heads)]
    for head in head_ids:
        people[head] = Person(head, SECRETARY)
        assignments += [Assignment(head, code, since=since) for code in head_codes(rng)]
    for i in range(staff):
        person = f"P{i:06d}"
        people[person] = Person(person, rng.choice(head_ids))
        for code in STAFF_CODES:
            # about 1 % on leave during the SKP round
            on_leave = code == "SKP" and rng.random() < 0.01
            exempt = frozenset({str(YEAR)}) if on_leave else frozenset()
            assignments.append(Assignment(person, code, exempt, since))
        if rng.random() < 0.10:
            assignments.append(Assignment(person, "SERAPAN", since=since))
    return Roster(people, assignments, SECRETARY)


def submitted_at(deadline: datetime, rng: random.Random) -> datetime | None:
    """When an occurrence ending at ``deadline`` was handed in: mostly before, some after,
    some never."""
    draw = rng.random()
    if draw < ON_TIME:
        return deadline - timedelta(minutes=rng.randint(1, 20 * 24 * 60))
    if draw < ON_TIME + LATE:
        return deadline + timedelta(minutes=rng.randint(0, 15 * 24 * 60))
    return None


def build_submissions(
    schedule: Schedule, roster: Roster, now: datetime, rng: random.Random
) -> list[Submission]:
    """Random submissions for the occurrences due from the start of the evaluation window to
    the end of 2025, none later than ``now``: one per carrier
    for personal rules, one for the agency as a whole for agency rules."""
    events = index_events([APBD])
    calendar = schedule.calendar
    start, _ = default_window(now.date())  # late-2024 occurrences are in view too
    due_in_year: dict[str, list[tuple[str, datetime]]] = {}
    for rule in schedule.catalog.active:
        found = schedule.occurrences(rule, min(start, date(YEAR, 1, 1)), date(YEAR, 12, 31), events)
        due_in_year[rule.code] = [
            (occ.period, calendar.deadline(occ.due)) for occ in found if occ.due is not None
        ]
    submissions: list[Submission] = []
    agency = {rule.code for rule in schedule.catalog.rules.values() if rule.scope is Scope.AGENCY}
    for code in sorted(agency):  # a set's order varies between runs; the draws must not
        for period, deadline in due_in_year.get(code, []):
            moment = submitted_at(deadline, rng)
            if moment is not None and moment < now:
                submissions.append(Submission(code, period, moment))
    for assignment in roster.assignments:
        if assignment.rule in agency:
            continue
        for period, deadline in due_in_year.get(assignment.rule, []):
            moment = submitted_at(deadline, rng)
            if moment is not None and moment < now:
                submissions.append(Submission(assignment.rule, period, moment, assignment.employee))
    return submissions


def parse_now(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=WITA)


def show_mb(label: str) -> None:
    now = current_mb()
    current = f"{now:8.1f} MB now, " if now is not None else ""
    print(f"  {label:<20}{current}{peak_mb():8.1f} MB peak")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=100_000, help="default 100000")
    parser.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    parser.add_argument(
        "--now", type=parse_now, default="2025-03-03T09:00", help="ISO time, WITA if naive"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile evaluate + plan")
    parser.add_argument(
        "--gc",
        choices=["on", "freeze", "off"],
        default="on",
        help="cyclic GC around the timed part, which is run as the service runs it (paused "
        "by scheduler.memory.paused_gc): on (default, as shipped), freeze (gc.freeze() "
        "after loading the data, as a service could), off (gc.disable(), for comparison)",
    )
    args = parser.parse_args(argv)
    if args.employees < 2:
        parser.error("--employees must be at least 2 (a Secretary and one more)")
    now: datetime = args.now

    catalog = shipped_catalog()
    gc.collect()
    print(
        f"tenggat bench: {args.employees} employees, seed {args.seed}, "
        f"now {now.isoformat()}, gc {args.gc}"
    )
    print("memory")
    show_mb("before data")
    baseline = peak_mb()

    rng = random.Random(args.seed)
    started = time.perf_counter()
    roster = build_roster(catalog, args.employees, rng)
    submissions = build_submissions(
        Schedule(catalog, LegalCalendar()), roster, now.astimezone(WITA), rng
    )
    generated = time.perf_counter() - started
    gc.collect()
    show_mb("after data")
    data_peak = peak_mb()

    schedule = Schedule(catalog, LegalCalendar())  # cold caches, as in a fresh process
    if args.gc == "freeze":
        gc.freeze()  # the roster and submissions are long-lived: keep them out of collections
    elif args.gc == "off":
        gc.disable()
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    t0 = time.perf_counter()
    with paused_gc():  # as the service's tick runs them
        evaluation = evaluate(schedule, roster, submissions, [APBD], now)
    t1 = time.perf_counter()
    show_mb("after evaluate")
    t2 = time.perf_counter()
    with paused_gc():
        notices = plan(schedule, roster, evaluation)
    t3 = time.perf_counter()
    if profiler:
        profiler.disable()
    show_mb("after plan")

    heads = sum(1 for p in roster.people.values() if p.superior == SECRETARY)
    statuses = Counter(item.status.value for item in evaluation.statuses)
    kinds = Counter(notice.kind.value for notice in notices)
    print("data")
    print(
        f"  employees           {len(roster.people):>9}  (1 secretary, {heads} heads, "
        f"{len(roster.people) - 1 - heads} staff)"
    )
    print(f"  assignments         {len(roster.assignments):>9}")
    print(f"  submissions         {len(submissions):>9}  (generated in {generated:.2f} s)")
    print(f"  statuses            {len(evaluation.statuses):>9}  {dict(statuses.most_common())}")
    print(f"  achievements        {len(evaluation.achievements):>9}")
    print(f"  notices             {len(notices):>9}  {dict(kinds.most_common())}")
    print("time")
    print(f"  evaluate            {t1 - t0:9.3f} s")
    print(f"  plan                {t3 - t2:9.3f} s")
    print(f"  total               {t1 - t0 + t3 - t2:9.3f} s")
    print("memory (peak)")
    print(f"  interpreter + libs  {baseline:9.1f} MB")
    print(f"  + roster, submissions {data_peak - baseline:7.1f} MB")
    print(f"  + evaluate and plan {peak_mb() - data_peak:9.1f} MB")
    print(f"  peak RSS            {peak_mb():9.1f} MB")
    if profiler:
        print("profile (evaluate + plan, top 15 by own time)")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
