"""Benchmark ``tenggat status --json`` on a database of N employees.

    python bench/status.py [--employees N] [--db PATH|URL] [--runs 5] [--seed S] [--profile]
                           [--check] [--bytecode]

Fills a migrated database (a SQLite file in a temporary directory unless ``--db`` names a
file or a URL) with a synthetic agency shaped like the seed IKI, then times the real command
line, ``tenggat status --json --as-of 2025-03-03``, as a subprocess writing to a temporary
file: minimum and median wall time, the CPU time of each run (user + system: on a shared
machine it varies less than the wall time), bytes written, and the same command narrowed to
one person (``--nip``), i.e. start-up plus whatever does not shrink with the filter.  It then
runs the command's two stages in this process once, to show where the time goes:
``records.carriers`` (the queries) and ``status.matrix_json`` (evaluation and the JSON).
Above the target, or with ``--profile``, it profiles those stages.  With ``--check`` it also
builds the matrix the long way (``records.snapshot``, ``status.build``, ``json_chunks``) and
compares its bytes with the command's.  The command line ends without freeing what it built
(see ``cli_records._status``), so its time has no teardown in it; the in-process stages
have none either.

Where ``PYTHONDONTWRITEBYTECODE`` is set (a development shell), every run compiles the
project's own modules again, about 0.3 s that an installed package (whose wheel install
writes the bytecode) never pays: ``--bytecode`` lets the runs keep it, in a temporary
``PYTHONPYCACHEPREFIX`` filled by the first run.

The roster follows the obligation profiles of the seed (as bench/evaluate.py does): one
Secretary carrying all fifteen codes; about 8 in 58 heads carrying SKP, LHKPN, EPANTAU, PK,
MR and SERAPAN, most of them SPT, a few SKM_RTL/RKBM/SHS or LKJP/SPP, two heads per unit;
staff carrying SKP, SPT and PK (one in ten also SERAPAN), reporting to a head of their unit.
Assignments start on 2025-01-01.  About nine in ten SKP carriers submitted SKP 2025 (one in
fifty of them twice: a correction row), about a third of SPT carriers SPT 2025, and the
Secretary the agency's EPANTAU (verified) and LKSKPD.  APBD 2025 was adopted on 2024-12-20.
Rows are written set-based: SQLAlchemy Core inserts of lists of dicts, in chunks.

A ``--db`` that already holds employees is not written to; it is timed as it is.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection

from bench.seed import STAFF_CODES, head_codes
from rules.calendar import WITA
from scheduler.config import load_config
from scheduler.memory import paused_gc
from scheduler.reports import status
from scheduler.store import models, records
from scheduler.store.db import Database

TARGET_S = 3.0
AS_OF = "2025-03-03"
NOW = datetime(2025, 3, 3, 23, 59, 59, tzinfo=WITA)  # what `--as-of 2025-03-03` means
STARTS_ON = date(2025, 1, 1)
CHUNK = 20_000
HEAD_SHARE = 8 / 58  # heads and analysts in the seed
TENGGAT = Path(sys.executable).parent / "tenggat"


def database_url(db: str | None, workdir: Path) -> str:
    if db is None:
        return f"sqlite:///{workdir / 'status.db'}"
    return db if "://" in db else f"sqlite:///{Path(db).resolve()}"


def chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def put(connection: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    for chunk in chunks(rows):
        connection.execute(insert(table), chunk)


def wita(day: date, rng: random.Random) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=WITA) + timedelta(
        minutes=rng.randint(7 * 60, 17 * 60)
    )


def between(first: date, last: date, rng: random.Random) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def generate(database: Database, employees: int, seed: int, codes: Iterable[str]) -> dict[str, int]:
    """Write the synthetic agency; return row counts per table."""
    rng = random.Random(seed)
    heads = max(1, round((employees - 1) * HEAD_SHARE))
    staff = max(0, employees - 1 - heads)
    unit_count = max(1, (heads + 1) // 2)
    recorded = datetime(2025, 3, 1, 9, tzinfo=WITA)

    units = [
        {"id": i + 1, "name": "Sekretariat" if i == 0 else f"Bidang {i:05d}"}
        for i in range(unit_count)
    ]

    def person(
        i: int, unit: int, superior: int | None, roles: str, position: str
    ) -> dict[str, Any]:
        nip = f"19{i:016d}"
        return {
            "id": i,
            "key": nip,
            "nip": nip,
            "name": f"PEGAWAI {i:06d}",
            "position": position,
            "unit_id": unit,
            "superior_id": superior,
            "superior_origin": "iki",
            "roles": roles,
            "telegram_chat_id": None,
            "email": None,
            "active": True,
            "review": "",
            "updated_at": recorded,
        }

    people = [person(1, 1, None, "secretary unit_head", "Sekretaris")]
    carried: list[tuple[int, str]] = [(1, code) for code in codes]
    head_ids = list(range(2, 2 + heads))
    unit_of: dict[int, int] = {1: 1}
    for n, head in enumerate(head_ids):
        unit_of[head] = 1 + n // 2
        people.append(person(head, unit_of[head], 1, "unit_head", "Kepala Bidang"))
        carried += [(head, code) for code in head_codes(rng)]
    exempt: list[dict[str, Any]] = []
    for i in range(2 + heads, 2 + heads + staff):
        boss = rng.choice(head_ids)
        people.append(person(i, unit_of[boss], boss, "", "Pengolah Data dan Informasi"))
        carried += [(i, code) for code in STAFF_CODES]
        if rng.random() < 0.10:
            carried.append((i, "SERAPAN"))
        if rng.random() < 0.01:
            exempt.append(
                {
                    "employee_id": i,
                    "rule_code": "SKP",
                    "period": "2025",
                    "reason": "Cuti besar",
                    "recorded_by": "bench",
                    "recorded_at": recorded,
                }
            )

    assignments = [
        {
            "employee_id": employee,
            "rule_code": code,
            "origin": "iki",
            "starts_on": STARTS_ON,
            "review": "",
        }
        for employee, code in carried
    ]

    def submission(employee: int | None, code: str, period: str, at: datetime) -> dict[str, Any]:
        verified = code == "EPANTAU"
        return {
            "employee_id": employee,
            "rule_code": code,
            "period": period,
            "submitted_at": at,
            "evidence": "",
            "source": "import",
            "recorded_by": "bench",
            "recorded_at": recorded,
            "verified_at": recorded if verified else None,
            "verified_by": "bench" if verified else None,
        }

    submissions: list[dict[str, Any]] = []
    corrections: list[dict[str, Any]] = []
    for employee, code in carried:
        draw = rng.random()
        if code == "SKP" and draw < 0.90:
            late = draw > 0.80
            day = between(
                date(2025, 3, 1) if late else date(2025, 2, 1),
                date(2025, 3, 3) if late else date(2025, 2, 28),
                rng,
            )
            submissions.append(submission(employee, "SKP", "2025", wita(day, rng)))
            if rng.random() < 0.02:
                later = wita(between(day, date(2025, 3, 3), rng), rng)
                corrections.append(submission(employee, "SKP", "2025", later))
        elif code == "SPT" and draw < 0.33:
            day = between(date(2025, 1, 15), date(2025, 3, 3), rng)
            submissions.append(submission(employee, "SPT", "2025", wita(day, rng)))
    for period, day in (("2025-01", date(2025, 1, 9)), ("2025-02", date(2025, 2, 7))):
        submissions.append(submission(1, "EPANTAU", period, wita(day, rng)))
    submissions.append(submission(1, "LKSKPD", "2025", wita(date(2025, 1, 22), rng)))
    event = {
        "code": "APBD_ADOPTED",
        "key": "2025",
        "day": date(2024, 12, 20),
        "recorded_by": "bench",
        "recorded_at": recorded,
    }

    with database.engine.begin() as connection:
        put(connection, models.Unit.__table__, units)
        put(connection, models.Employee.__table__, people)  # superiors come first
        put(connection, models.Assignment.__table__, assignments)
        put(connection, models.Exemption.__table__, exempt)
        put(connection, models.Submission.__table__, submissions)
        put(connection, models.Submission.__table__, corrections)  # newer ids: they count
        put(connection, models.Event.__table__, [event])
        if connection.dialect.name == "postgresql":  # explicit ids: move the sequences on
            for table in ("units", "employees"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                connection.execute(text(f"SELECT setval({sequence}, max(id)) FROM {table}"))
    return {
        "units": len(units),
        "employees": len(people),
        "assignments": len(assignments),
        "exemptions": len(exempt),
        "submissions": len(submissions) + len(corrections),
    }


def run_cli(
    url: str, workdir: Path, *extra: str, bytecode: Path | None = None
) -> tuple[float, float, int]:
    """Wall time and CPU time of one ``tenggat status --json``, and the bytes it wrote."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
    environ["TENGGAT_DATABASE_URL"] = url
    if bytecode is not None:
        environ.pop("PYTHONDONTWRITEBYTECODE", None)
        environ["PYTHONPYCACHEPREFIX"] = str(bytecode)
    out = workdir / "status.json"
    with out.open("wb") as sink:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            [str(TENGGAT), "status", "--json", "--as-of", AS_OF, *extra],
            cwd=workdir,
            env=environ,
            stdout=sink,
            stderr=subprocess.PIPE,
            check=False,
        )
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"tenggat status failed ({done.returncode}):\n{done.stderr.decode()}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return elapsed, cpu, out.stat().st_size


def in_process(url: str) -> tuple[dict[str, float], dict[str, int]]:
    """The command's two stages once, in this process, as the command line runs them."""
    config = load_config(environ={"TENGGAT_DATABASE_URL": url})
    database = Database(url)
    with paused_gc():  # as the command runs them
        t0 = time.perf_counter()
        with database.read() as session:
            lean = records.carriers(session, config.catalog, since_year=NOW.year - 1)
        t1 = time.perf_counter()
        size = sum(len(chunk) for chunk in status.matrix_json(config.schedule(), lean, NOW))
        t2 = time.perf_counter()
    database.engine.dispose()
    times = {"carriers (SQL)": t1 - t0, "matrix_json": t2 - t1}
    counts = {
        "people": len(lean.people),
        "submissions read": len(lean.submissions),
        "json bytes": size,
    }
    return times, counts


def the_long_way(url: str) -> bytes:
    """``status --json`` through the matrix: snapshot, evaluate, build, json_chunks."""
    config = load_config(environ={"TENGGAT_DATABASE_URL": url})
    database = Database(url)
    with paused_gc():  # as the command runs them
        with database.read() as session:
            snap = records.snapshot(session, config.catalog, since_year=NOW.year - 1)
        matrix = status.build(config.schedule(), snap, NOW)
    database.engine.dispose()
    return b"".join(status.json_chunks(matrix))


def profile(url: str, top: int = 20) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    in_process(url)
    profiler.disable()
    for order in ("tottime", "cumulative"):
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats(order).print_stats(top)
        report = stream.getvalue()
        print(f"profile (in-process carriers + matrix_json), top {top} by {order}")
        print(report[report.find("   ncalls") :].rstrip())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=100_000, help="default 100000")
    parser.add_argument("--db", help="SQLite file or database URL (default: a temporary file)")
    parser.add_argument("--runs", type=int, default=5, help="CLI runs (default 5)")
    parser.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    parser.add_argument("--profile", action="store_true", help="profile even within target")
    parser.add_argument("--check", action="store_true", help="compare with the matrix's bytes")
    parser.add_argument(
        "--bytecode", action="store_true", help="keep compiled modules between runs"
    )
    args = parser.parse_args(argv)
    if args.employees < 2:
        parser.error("--employees must be at least 2 (a Secretary and one more)")

    with tempfile.TemporaryDirectory(prefix="tenggat-bench-") as tmp:
        workdir = Path(tmp)  # no config.toml here: the CLI runs on the built-in defaults
        os.chdir(workdir)
        url = database_url(args.db, workdir)
        database = Database(url)
        safe = database.url.render_as_string(hide_password=True)
        print(f"tenggat status bench: {args.employees} employees, {safe}")
        database.migrate()
        with database.read() as session:
            present = session.scalar(select(func.count()).select_from(models.Employee)) or 0
        if present:
            print(f"  the database already holds {present} employees: timing it as it is")
        else:
            codes = load_config(environ={}).catalog.rules
            started = time.perf_counter()
            counts = generate(database, args.employees, args.seed, codes)
            took = time.perf_counter() - started
            print(
                f"  generated in {took:.1f} s: " + ", ".join(f"{v} {k}" for k, v in counts.items())
            )
        database.engine.dispose()

        bytecode = workdir / "pycache" if args.bytecode else None
        if bytecode is None and os.environ.get("PYTHONDONTWRITEBYTECODE"):
            print("  PYTHONDONTWRITEBYTECODE is set: each run compiles the project (--bytecode)")
        secretary = ("--nip", "190000000000000001")
        if bytecode is not None:  # a first run compiles what the others load
            run_cli(url, workdir, *secretary, bytecode=bytecode)
        one, _, _ = run_cli(url, workdir, *secretary, bytecode=bytecode)
        timings, cpus, sizes = [], [], set()
        for _ in range(args.runs):
            elapsed, cpu, size = run_cli(url, workdir, bytecode=bytecode)
            timings.append(elapsed)
            cpus.append(cpu)
            sizes.add(size)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        median = statistics.median(timings)
        verdict = "within" if median <= TARGET_S else "OVER"
        print(f"tenggat status --json --as-of {AS_OF}  ({args.runs} runs, output to a file)")
        print(
            f"  min {min(timings):7.3f} s   median {median:7.3f} s   "
            f"({verdict} target {TARGET_S:.0f} s)"
        )
        print(f"  runs {', '.join(f'{t:.3f}' for t in timings)} s; {max(sizes):,} bytes written")
        print(f"  CPU (user + sys) {', '.join(f'{t:.3f}' for t in cpus)} s")
        print(f"  same command for one person (--nip): {one:.3f} s")
        print(f"  peak RSS of a run {peak:.0f} MB")
        if args.check:
            same = (workdir / "status.json").read_bytes() == the_long_way(url)
            print(f"  bytes {'equal to' if same else 'DIFFER FROM'} the matrix's (--check)")
            if not same:
                sys.exit(1)

        times, counts = in_process(url)
        print("in-process, once: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
        for stage, seconds in times.items():
            print(f"  {stage:<18}{seconds:8.3f} s")
        print(f"  {'total':<18}{sum(times.values()):8.3f} s")
        if args.profile or median > TARGET_S:
            profile(url)
        os.chdir("/")  # leave the temporary directory before it is removed


if __name__ == "__main__":
    main()
