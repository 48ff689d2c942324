"""The admin's output as a person reads it: in a real pseudo-terminal of 80 columns, the width
of a laptop's terminal window, every row still says whom it is about and no line runs past
the edge (rich squeezes columns to nothing where a table does not fit); and every time shown
says its zone."""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

TENGGAT = Path(sys.executable).parent / "tenggat"
WIDTH = 80
# A time of day after a date, not followed by a zone's name or a UTC offset (the whole time:
# its seconds are not left out to find a zoneless "19:17" in "19:17:05+0000").
ZONELESS = re.compile(
    r"\d{4}-\d{2}-\d{2}[ T]\d{2}[:.]\d{2}(?::\d{2})?(?![:\d])(?! ?(?:WITA|[+-]\d{2}:?\d{2}))"
)
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
# A few records on the demo's seed: the Secretary, a staff member and a unit head.
SUBMITTED = [
    ("197105152000121003", "EPANTAU", "2025-01", "2025-01-09 10:00"),
    ("198404232010011013", "SKP", "2025", "2025-02-20 10:00"),
    ("196905221997031004", "P3DN", "2025-01", "2025-02-03 10:00"),
]


def environ(url: str) -> dict[str, str]:
    """The caller's environment with no TENGGAT_* but the database, 80 columns wide."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
    return kept | {"TENGGAT_DATABASE_URL": url, "COLUMNS": str(WIDTH), "TERM": "xterm-256color"}


def tenggat(url: str, cwd: Path, *args: str, status: int = 0) -> str:
    """``tenggat ARGS`` as a plain process (no terminal); its standard output (and error)."""
    done = subprocess.run(
        [str(TENGGAT), *args],
        cwd=cwd,
        env=environ(url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == status, done.stderr
    return done.stdout + done.stderr


def in_terminal(url: str, cwd: Path, *args: str) -> list[str]:
    """``tenggat ARGS`` in a pseudo-terminal of WIDTH columns: the lines it shows, without
    their colours."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, WIDTH, 0, 0))
    process = subprocess.Popen(
        [str(TENGGAT), *args],
        cwd=cwd,
        env=environ(url),
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's last writer has gone
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert process.wait(timeout=120) == 0, shown.decode(errors="replace")
    text = ESCAPES.sub("", shown.decode())
    return text.replace("\r\n", "\n").split("\n")


@pytest.fixture
def demo(database_url: str, tmp_path: Path) -> tuple[str, Path]:
    """The demo's database with a few submissions recorded."""
    tenggat(database_url, tmp_path, "demo")
    for nip, code, period, at in SUBMITTED:
        tenggat(database_url, tmp_path, "submit", nip, code, period, "--at", at)
    return database_url, tmp_path


def too_wide(lines: list[str]) -> list[str]:
    return [line for line in lines if cell_len(line) > WIDTH]


def test_the_status_table_keeps_every_name_in_80_columns(demo: tuple[str, Path]) -> None:
    url, cwd = demo
    names = [
        person["name"]
        for person in _json(tenggat(url, cwd, "status", "--as-of", "2025-03-03", "--json"))[
            "employees"
        ]
    ]
    lines = in_terminal(url, cwd, "status", "--as-of", "2025-03-03")
    assert too_wide(lines) == []
    missing = [name for name in names if not any(name in line for line in lines)]
    assert missing == [], "\n".join(lines)
    assert any("Sekretariat" in line for line in lines), "the units are shown too"


def test_the_submissions_list_keeps_each_nip_and_name_in_80_columns(
    demo: tuple[str, Path],
) -> None:
    url, cwd = demo
    rows = _json(tenggat(url, cwd, "submissions", "list", "--json"))
    assert len(rows) == len(SUBMITTED)
    lines = in_terminal(url, cwd, "submissions", "list")
    assert too_wide(lines) == []
    for row in rows:
        together = [line for line in lines if row["key"] in line and row["name"] in line]
        assert together, (row["key"], row["name"], "\n".join(lines))
    for _, code, period, _ in SUBMITTED:
        assert any(code in line and period in line for line in lines), (code, period)


def test_a_table_of_uncut_columns_is_stacked_rather_than_cut_in_80_columns(
    demo: tuple[str, Path],
) -> None:
    """Codes, keys and times may not wrap; where they do not fit side by side, the rows
    stack rather than lose their ends to an ellipsis."""
    url, cwd = demo
    tenggat(url, cwd, "event", "set", "APBD_ADOPTED", "2025", "2024-12-20")
    lines = in_terminal(url, cwd, "event", "list")
    assert too_wide(lines) == [] and not any("…" in line for line in lines), "\n".join(lines)
    assert any("APBD_ADOPTED" in line and "2025" in line for line in lines), "\n".join(lines)
    assert any("20 Desember 2024" in line for line in lines), "\n".join(lines)


def _json(text: str) -> Any:
    import json

    return json.loads(text)


def test_every_time_shown_says_its_zone(demo: tuple[str, Path]) -> None:
    """The tables, the health report and its problems, the service's log: a time is never
    bare."""
    url, cwd = demo
    tenggat(url, cwd, "event", "set", "APBD_ADOPTED", "2025", "2025-01-20")
    tenggat(url, cwd, "run", "--once", "--as-of", "2025-03-03 09:00")
    shown = {
        args: tenggat(url, cwd, *args)
        for args in [
            ("submissions", "list"),
            ("outbox",),
            ("event", "list"),
            ("health",),
            ("plan", "--as-of", "2025-03-03 09:00"),
            # the service's own log lines, stamped with their offset
            ("run", "--once", "--as-of", "2025-03-04 09:00", "--log-level", "info"),
        ]
    }
    future = cwd / "future.csv"
    future.write_text("nip,rule,period,submitted_at\n198404232010011013,SPT,2024,2100-01-01\n")
    shown[("submissions", "import")] = tenggat(
        url, cwd, "submissions", "import", str(future), status=1
    )
    bare = {args: ZONELESS.findall(text) for args, text in shown.items()}
    assert {args: found for args, found in bare.items() if found} == {}
    assert "WITA" in shown[("submissions", "list")]
