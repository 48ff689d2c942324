"""The service as a user starts it: `tenggat run` on a real SQLite file, console channel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from importlib import resources
from pathlib import Path

import pytest

from rules.calendar import WITA
from scheduler.config import load_config
from scheduler.service import Service

TENGGAT = str(Path(sys.executable).parent / "tenggat")
SEED = resources.files("scheduler").joinpath("data/iki_2025_kesbangpol_kukar.txt")
SECRETARY = "197105152000121003"


def environment(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
    return env | {"TENGGAT_DATABASE_URL": url}


def tenggat(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TENGGAT, *args], cwd=tmp_path, env=environment(url), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


@pytest.fixture
def seeded(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tenggat.db'}"
    assert tenggat(tmp_path, url, "demo").returncode == 0
    done = tenggat(tmp_path, url, "submit", SECRETARY, "SKP", "2025", "--at", "2025-02-20")
    assert done.returncode == 0, done.stderr
    return url


def test_run_once_sends_overdue_and_escalations_on_the_console(tmp_path: Path, seeded: str) -> None:
    result = tenggat(tmp_path, seeded, "run", "--once", "--as-of", "2025-03-03 09:00")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("[console]")]
    skp_overdue = [line for line in lines if "Sasaran Kinerja Pegawai (SKP)" in line]
    # 58 carry SKP, the Secretary submitted: 57 overdue reminders and their escalations
    assert sum("lewat tenggat 3 hari" in line for line in skp_overdue) == 57
    assert not any(f"({SECRETARY}): Sasaran Kinerja" in line for line in skp_overdue)
    assert any(line.startswith("[console] → SUTRISNO") and "Eskalasi" in line for line in lines)
    assert "tick at=2025-03-03T09:00+08:00" in result.stderr


def test_a_second_tick_in_one_process_sends_nothing_again(tmp_path: Path, seeded: str) -> None:
    os.environ["TENGGAT_DATABASE_URL"] = seeded
    try:
        config = load_config(None)
    finally:
        del os.environ["TENGGAT_DATABASE_URL"]
    now = datetime(2025, 3, 3, 9, tzinfo=WITA)
    service = Service(config, lambda: now)
    service.start()
    first = service.tick()
    assert first and len(service.sent) == len(first)
    again = service.tick()
    assert {n.key for n in again} == {n.key for n in first}
    assert len(service.sent) == len(first)  # nothing new was sent


def test_run_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    process = subprocess.Popen(
        [TENGGAT, "run"], cwd=tmp_path, env=environment(url), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    seen = []
    deadline = time.monotonic() + 30
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if "running tick_every=15min" in line:
            break
    assert any("roster empty" in line for line in seen), seen
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "stop signal=SIGTERM" in rest and "stopped" in rest
