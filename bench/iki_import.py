"""Benchmark `tenggat import-iki` on a long IKI document as Word, PDF and text.

    python bench/iki_import.py [--positions N]

Writes the agency of tests/iki_documents.py repeated to N positions (default 150, one page
each in the PDF) as a .docx (python-docx), a .pdf (fpdf2, ruled tables) and the seed's
text layout, then imports each into a fresh, migrated SQLite database with the real
command line under ``/usr/bin/time -v`` and prints the wall time and peak RSS (target for
a 150-page document: at most 10 s and 300 MB).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from iki_documents import agency, as_docx, as_pdf, as_text  # the tests' writers
from sheets import timed  # wall time and peak RSS of one command

from scheduler.store.db import Database


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positions", type=int, default=150, help="default 150")
    args = parser.parse_args(argv)
    positions = agency(args.positions)
    documents = {
        "iki.docx": as_docx(positions),
        "iki.pdf": as_pdf(positions),
        "iki.txt": as_text(positions).encode(),
    }
    pages = len(re.findall(rb"/Type\s*/Page\b", documents["iki.pdf"]))
    print(f"tenggat import-iki bench: {args.positions} positions, {pages} PDF pages, SQLite")
    with tempfile.TemporaryDirectory(prefix="tenggat-bench-") as tmp:
        workdir = Path(tmp)
        for name, data in documents.items():
            (workdir / name).write_bytes(data)
            url = f"sqlite:///{workdir / (name + '.db')}"
            Database(url).migrate()
            seconds, peak, said = timed(url, workdir, "--lang", "en", "import-iki", name)
            size = f"{len(data) / 2**20:.2f} MB"
            print(f"  {name:<10}{size:>8} {seconds:8.1f} s   peak RSS {peak:6.0f} MB   {said[:60]}")
        os.chdir("/")


if __name__ == "__main__":
    main()
