"""Benchmark `tenggat import-iki` on a long IKI document as Word, PDF and text.

    python bench/iki_import.py [--positions N] [--rows R]

Writes the agency of tests/iki_documents.py repeated to N positions (default 75, with
tables of 14 rows: about 150 pages of PDF) as a .docx (python-docx), a .pdf (fpdf2, ruled tables)
and the seed's text layout, then imports each into a fresh, migrated SQLite database with the real
command line and prints the wall time and the peak RSS of the command and the processes
it starts, summed (target for a 150-page document: at most 10 s and 300 MB).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from iki_documents import agency, as_docx, as_pdf, as_text  # the tests' writers

from scheduler.store.db import Database

ROOT = Path(__file__).resolve().parents[1]


def timed(url: str, workdir: Path, *args: str) -> tuple[float, float, float, str]:
    """Run ``tenggat ARGS``; wall seconds, CPU seconds, the peak of the RSS summed over the
    command and the processes it starts (a long PDF is read on every core), and its first
    output line.  CPU seconds tell what a busy machine's wall time hides."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
    environ["TENGGAT_DATABASE_URL"] = url
    environ["PYTHONPATH"] = str(ROOT)  # this checkout's code, whichever one is installed
    started = time.perf_counter()
    command = [sys.executable, "-m", "scheduler", *args]
    with subprocess.Popen(command, cwd=workdir, env=environ, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:  # fmt: skip
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.02)
        out, err = process.communicate()
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if process.returncode != 0:
        sys.exit(f"tenggat {' '.join(args)} failed:\n{out[-2000:]}\n{err[-3000:]}")
    return elapsed, cpu, peak / 2**20, (out.splitlines() or [""])[0]


def _tree_rss(root: int) -> int:
    """Bytes resident in process ``root`` and its descendants, from /proc."""
    parents: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            statm = (entry / "statm").read_text().split()
        except OSError:
            continue  # ended meanwhile
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        sizes[int(entry.name)] = int(statm[1]) * os.sysconf("SC_PAGE_SIZE")
    tree = {root}
    grown = True
    while grown:
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= found
        grown = bool(found)
    return sum(sizes.get(pid, 0) for pid in tree)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positions", type=int, default=75, help="default 75")
    parser.add_argument("--rows", type=int, default=14, help="rows a table, default 14")
    args = parser.parse_args(argv)
    positions = agency(args.positions, args.rows)
    documents = {
        "iki.docx": as_docx(positions),
        "iki.pdf": as_pdf(positions),
        "iki.txt": as_text(positions).encode(),
    }
    pages = len(re.findall(rb"/Type\s*/Page\b", documents["iki.pdf"]))
    about = f"{args.positions} positions of {args.rows} rows, {pages} PDF pages"
    print(f"tenggat import-iki bench: {about}, SQLite")
    with tempfile.TemporaryDirectory(prefix="tenggat-bench-") as tmp:
        workdir = Path(tmp)
        for name, data in documents.items():
            (workdir / name).write_bytes(data)
            url = f"sqlite:///{workdir / (name + '.db')}"
            Database(url).migrate()
            seconds, cpu, peak, said = timed(url, workdir, "--lang", "en", "import-iki", name)
            size = f"{len(data) / 2**20:.2f} MB"
            figures = f"{seconds:6.1f} s (CPU {cpu:5.1f} s)   peak RSS {peak:4.0f} MB"
            print(f"  {name:<10}{size:>8} {figures}   {said[:40]}")
        os.chdir("/")


if __name__ == "__main__":
    main()
