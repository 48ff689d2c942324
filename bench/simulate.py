"""Benchmark ``tenggat simulate`` over a whole year on the seed roster.

    python bench/simulate.py [--runs 5] [--from 2025-01-01] [--to 2025-12-31] [--json]

Builds a demo database in a temporary directory the way an admin would, with the real
command line: ``tenggat demo`` (the bundled IKI 2025: 58 employees),
``tenggat event set APBD_ADOPTED 2025 2024-12-20`` and a few submissions (on time, late, an
agency one, an unverified e-Pantau).  Then it runs
``tenggat simulate --from 2025-01-01 --to 2025-12-31`` as a subprocess ``--runs`` times,
start-up included, and prints the minimum and median wall time against the target (3 s),
the messages, notices and recipients of the timeline, and whether every run printed exactly
the same output (the command must be deterministic).  Exit status 1 when a run fails, the
outputs differ or the median misses the target.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 3.0
TENGGAT = Path(sys.executable).parent / "tenggat"
SECRETARY = "197105152000121003"
STAFF = "197201202009021001"
SETUP = [
    ["demo"],
    ["event", "set", "APBD_ADOPTED", "2025", "2024-12-20"],
    ["submit", SECRETARY, "SKP", "2025", "--at", "2025-02-20 10:00"],
    ["submit", STAFF, "SKP", "2025", "--at", "2025-03-04 11:00"],
    ["submit", SECRETARY, "LKSKPD", "2025", "--at", "2025-01-20 09:00"],
    ["submit", SECRETARY, "EPANTAU", "2025-02", "--at", "2025-02-07 09:00", "--verified"],
    ["submit", SECRETARY, "EPANTAU", "2025-03", "--at", "2025-03-07 09:00"],
]


def tenggat(workdir: Path, environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TENGGAT), *args], cwd=workdir, env=environ, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs (default 5)")
    parser.add_argument("--from", dest="first", default="2025-01-01")
    parser.add_argument("--to", dest="last", default="2025-12-31")
    parser.add_argument("--json", action="store_true", help="time the --json output instead")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tenggat-bench-") as tmp:
        workdir = Path(tmp)  # no config.toml here: the CLI runs on the built-in defaults
        environ = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
        environ["TENGGAT_DATABASE_URL"] = f"sqlite:///{workdir / 'tenggat.db'}"
        for step in SETUP:
            done = tenggat(workdir, environ, *step)
            if done.returncode != 0:
                print(f"setup failed: tenggat {' '.join(step)}\n{done.stderr}", file=sys.stderr)
                return 1
        command = ["simulate", "--from", args.first, "--to", args.last]
        command += ["--json"] if args.json else []
        print(f"tenggat simulate bench: tenggat {' '.join(command)} on the seed roster (SQLite)")

        timings: list[float] = []
        outputs: set[str] = set()
        last = ""
        for _ in range(args.runs):
            started = time.perf_counter()
            done = tenggat(workdir, environ, *command)
            timings.append(time.perf_counter() - started)
            if done.returncode != 0:
                print(f"run failed ({done.returncode}):\n{done.stderr}", file=sys.stderr)
                return 1
            outputs.add(hashlib.sha256(done.stdout.encode()).hexdigest())
            last = done.stdout

        if args.json:
            summary = json.loads(last)["summary"]
            figures = (
                f"{summary['messages']} messages ({summary['notices']} notices, "
                f"{summary['digests']} digests) to {summary['recipients']} recipients"
            )
        else:
            figures = last.rstrip().splitlines()[-1]
        best, median = min(timings), statistics.median(timings)
        verdict = "ok" if median <= TARGET_S else "OVER TARGET"
        same = len(outputs) == 1
        print(
            f"  runs: {args.runs}, min {best:.2f} s, median {median:.2f} s "
            f"(target <= {TARGET_S:.0f} s: {verdict})"
        )
        print(f"  timeline: {figures}")
        identical = "yes" if same else "NO"
        print(f"  output: {len(last.encode()):,} bytes; identical in every run: {identical}")
        return 0 if same and median <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
