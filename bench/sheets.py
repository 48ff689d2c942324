"""Benchmark the roster sheet both ways on N employees: export, then import back.

    python bench/sheets.py [--employees N] [--seed S]

Fills a migrated SQLite database in a temporary directory with the synthetic agency of
bench/status.py, then runs the real command line under ``/usr/bin/time -v`` and prints the
wall time and peak RSS of each step:

1. ``tenggat roster export roster.csv`` (every employee);
2. ``tenggat roster import roster.csv`` into the same database: every row checked against the
   stored roster, nothing to write (the admin's usual round trip);
3. the same sheet with every name changed: every row checked and every employee updated;
4. the first sheet into an empty database: every employee created, superiors resolved.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # as ROOT below

from status import generate  # the synthetic agency of bench/status.py

from scheduler.config import load_config
from scheduler.store.db import Database

ROOT = Path(__file__).resolve().parents[1]


def timed(url: str, workdir: Path, *args: str) -> tuple[float, float, str]:
    """Run ``tenggat ARGS``; return wall seconds, peak RSS in MB and the first output line."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
    environ["TENGGAT_DATABASE_URL"] = url
    environ["PYTHONPATH"] = str(ROOT)  # this checkout's code, whichever one is installed
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-m", "scheduler", *args],
        cwd=workdir,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"tenggat {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    peak = int(found.group(1)) / 1024 if found else float("nan")
    return elapsed, peak, (done.stdout.splitlines() or [""])[0]


def renamed(source: Path, target: Path) -> None:
    """The sheet with every name changed, as an admin's bulk correction would."""
    with source.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))  # as the export writes it, for Excel
    column = rows[0].index("name")
    for row in rows[1:]:
        row[column] += " S.Pd"
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=100_000, help="default 100000")
    parser.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tenggat-bench-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'sheets.db'}"
        database = Database(url)
        database.migrate()
        codes = load_config(environ={}).catalog.rules
        generate(database, args.employees, args.seed, codes)
        database.engine.dispose()
        empty = f"sqlite:///{workdir / 'empty.db'}"
        Database(empty).migrate()
        print(f"tenggat roster sheet bench: {args.employees} employees, SQLite")
        steps = [
            ("export", url, ("roster", "export", "roster.csv")),
            ("import, unchanged", url, ("roster", "import", "roster.csv")),
            ("import, all renamed", url, ("roster", "import", "renamed.csv")),
            ("import, all new", empty, ("roster", "import", "roster.csv")),
        ]
        for name, target, command in steps:
            if name == "import, all renamed":
                renamed(workdir / "roster.csv", workdir / "renamed.csv")
            seconds, peak, said = timed(target, workdir, *command)
            print(f"  {name:<22}{seconds:8.1f} s   peak RSS {peak:6.0f} MB   {said[:70]}")
        os.chdir("/")


if __name__ == "__main__":
    main()
