"""The service as a user starts it: `tenggat run` on a real SQLite file, console channel."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, select

from notifications.console import ConsoleChannel
from rules.calendar import WITA
from rules.evaluate import evaluate
from rules.plan import plan
from scheduler.config import load_config
from scheduler.iki.apply import apply_import
from scheduler.iki.document import parse_iki
from scheduler.service.tick import Service
from scheduler.store import models
from scheduler.store.db import Database
from scheduler.store.outbox import LEASE, enqueue
from scheduler.store.records import snapshot

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
    printed = result.stdout.split("[console] → ")[1:]
    digests = [m for m in printed if "Ringkasan mingguan kepatuhan IKI" in m]
    messages = [m for m in printed if m not in digests]
    recipients = [message.split(":\n", 1)[0] for message in messages]
    assert len(recipients) == len(set(recipients))  # everything for a person in one message
    # a Monday after 07:30: the week's digest, on its own, for the Secretary only
    assert [d.split(":\n", 1)[0] for d in digests] == [f"SUTRISNO, S.Sos, M.Si ({SECRETARY})"]
    skp = "Sasaran Kinerja Pegawai (SKP) Tahun 2025: belum disampaikan, lewat 3 hari"
    # 58 carry SKP and the Secretary submitted: 57 are told, once each
    assert sum(message.count(skp) for message in messages) == 57
    (secretary,) = [m for m in messages if m.startswith(f"SUTRISNO, S.Sos, M.Si ({SECRETARY})")]
    assert skp not in secretary
    # 57 staff: by obligation, with a count and at most eight names each, in one Telegram
    # part (4096 characters) rather than three
    assert "Kewajiban bawahan Bapak yang belum disampaikan, per kewajiban:" in secretary
    assert "Sasaran Kinerja Pegawai (SKP) Tahun 2025: 28 orang belum menyampaikan" in secretary
    assert "; dan 20 lainnya: lihat ringkasan mingguan" in secretary
    assert len(secretary) < 4096
    assert "tick at=2025-03-03T09:00+08:00" in result.stderr
    # Each line is stamped in the service's zone, whatever the machine's (here UTC or not).
    stamps = re.findall(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}([+-]\d{4}) ", result.stderr, re.M)
    assert stamps and set(stamps) == {"+0800"}, result.stderr


def service_on(url: str, now: datetime) -> Service:
    """A service on the database at ``url`` whose console writes into a buffer."""
    service = Service(load_config(None, environ={"TENGGAT_DATABASE_URL": url}), lambda: now)
    service.channels["console"] = ConsoleChannel(io.StringIO())
    return service


def seed_roster(url: str) -> None:
    database = Database(url)
    database.migrate()
    catalog = load_config(None, environ={"TENGGAT_DATABASE_URL": url}).catalog
    with database.write() as session:
        apply_import(session, parse_iki(SEED.read_text(encoding="utf-8"), catalog), MARCH_3)
    database.engine.dispose()


def deliveries(url: str) -> list[tuple[str, str]]:
    database = Database(url)
    with database.read() as session:
        found = session.execute(
            select(models.Outbox.key, models.Delivery.worker).join(
                models.Delivery, models.Delivery.outbox_id == models.Outbox.id
            )
        ).all()
    database.engine.dispose()
    return [(key, worker) for key, worker in found]


MARCH_3 = datetime(2025, 3, 3, 9, tzinfo=WITA)


def test_ticks_and_restarts_send_each_notice_once(database_url: str) -> None:
    seed_roster(database_url)
    first = service_on(database_url, MARCH_3)
    planned = first.tick()
    assert planned
    assert len(deliveries(database_url)) == len(planned) + 1  # and Monday's digest
    first.tick()  # the same moment again: everything is already in the outbox
    restarted = service_on(database_url, MARCH_3 + timedelta(minutes=15))
    restarted.start()
    restarted.tick()  # a new process after a restart: nothing is sent twice
    sent = deliveries(database_url)
    assert len(sent) == len(planned) + 1 == len({key for key, _ in sent})
    console = restarted.channels["console"]
    assert isinstance(console, ConsoleChannel) and isinstance(console.stream, io.StringIO)
    assert console.stream.getvalue() == ""


def test_a_tick_asks_the_database_for_its_instance_once(database_url: str) -> None:
    """Is this still the database the service started on?  One query per tick (not one for
    the planning and another for the dispatch within it) and one per minute's dispatch:
    counted as the driver is asked, on the service's own engine."""
    seed_roster(database_url)
    service = service_on(database_url, MARCH_3)
    asked: list[str] = []

    def note(*args: Any) -> None:
        statement = str(args[2])
        if statement.startswith("SELECT value FROM service_state WHERE name"):
            asked.append(statement)

    try:
        service.start()
        event.listen(service.db.engine, "before_cursor_execute", note)
        assert service.tick()
        assert len(asked) == 1, asked
        service.dispatch(MARCH_3 + timedelta(minutes=1))
        assert len(asked) == 2, asked
    finally:
        service.db.engine.dispose()


def test_two_dispatchers_at_once_deliver_each_notice_once(database_url: str) -> None:
    seed_roster(database_url)
    planner = service_on(database_url, MARCH_3)
    schedule = planner.config.schedule()
    with planner.db.read() as session:
        snap = snapshot(session, planner.config.catalog, since_year=2024)
    notices = plan(schedule, snap.roster, evaluate(schedule, snap.roster, snap.submissions,
                                                   snap.events, MARCH_3))  # fmt: skip
    with planner.db.write() as session:
        assert enqueue(session, notices, MARCH_3) == len(notices)
    workers = [service_on(database_url, MARCH_3) for _ in range(2)]
    threads = [threading.Thread(target=w.dispatch, args=(MARCH_3,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    sent = deliveries(database_url)
    assert sorted(key for key, _ in sent) == sorted(n.key for n in notices)
    assert {worker for _, worker in sent} <= {w.worker for w in workers}


def test_a_claim_left_by_a_killed_dispatcher_is_taken_over(database_url: str) -> None:
    seed_roster(database_url)
    planner = service_on(database_url, MARCH_3)
    planner.tick()
    with planner.db.write() as session:  # a dispatcher claimed one row, then died
        row = session.scalars(select(models.Outbox).limit(1)).one()
        row.state, row.claimed_by, row.claimed_at, row.sent_at = "claimed", "dead:1", MARCH_3, None
        session.execute(delete(models.Delivery).where(models.Delivery.outbox_id == row.id))
        key = row.key
    soon = service_on(database_url, MARCH_3 + timedelta(minutes=5))
    assert soon.dispatch(soon.clock()) == 0  # within the lease: left alone
    later = service_on(database_url, MARCH_3 + LEASE + timedelta(minutes=1))
    assert later.dispatch(later.clock()) == 1
    assert [worker for k, worker in deliveries(database_url) if k == key] == [later.worker]


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
    second = tenggat(tmp_path, url, "run")  # one scheduler per SQLite file
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "stop signal=SIGTERM" in rest and "stopped" in rest
    assert second.returncode == 2, second.stderr
    assert f"pid {process.pid}" in second.stderr or str(process.pid) in second.stderr


def test_plan_and_outbox_commands_show_what_was_and_would_be_sent(
    tmp_path: Path, seeded: str
) -> None:
    before = json.loads(
        tenggat(tmp_path, seeded, "plan", "--as-of", "2025-03-03 09:00", "--json").stdout
    )
    notices = before["notices"]
    assert notices and {n["outbox"] for n in notices} == {"new"}
    skp = [n for n in notices if n["rule"] == "SKP" and n["role"] == "employee"]
    assert len(skp) == 57 and all(n["kind"] == "overdue" and n["days_late"] == 3 for n in skp)
    # Each message shows the "Sudah lapor" buttons it will carry: one per own item, 8 at most.
    buttons = {m["recipient"]: [b["data"] for b in m["buttons"]] for m in before["messages"]}
    secretary = buttons.pop(next(k for k in buttons if SECRETARY in k))
    assert len(secretary) == 8 and "lapor:EPANTAU:2025-01" in secretary  # of ten own items
    assert all(v == ["lapor:SKP:2025"] for v in buttons.values() if len(v) == 1)
    assert all("lapor:SKP:2025" in v and len(v) <= 8 for v in buttons.values())
    text = tenggat(tmp_path, seeded, "plan", "--as-of", "2025-03-03 09:00").stdout
    (head,) = [line for line in text.splitlines() if line.startswith("→") and SECRETARY in line]
    assert "SKP 2025 H+1 ×" in head and head.count("SKP 2025 H+1") == 1  # each reason once
    assert tenggat(tmp_path, seeded, "outbox", "--json").stdout.count('"sent"') == 0
    assert tenggat(tmp_path, seeded, "run", "--once", "--as-of", "2025-03-03 09:00").returncode == 0
    after = json.loads(
        tenggat(tmp_path, seeded, "plan", "--as-of", "2025-03-03 09:00", "--json").stdout
    )
    assert {n["outbox"] for n in after["notices"]} == {"sent"}
    listed = json.loads(tenggat(tmp_path, seeded, "outbox", "--json", "--limit", "5").stdout)
    assert listed["counts"] == {"sent": len(notices) + 1}  # and Monday's digest
    assert len(listed["rows"]) == 5 and all(r["channel"] == "console" for r in listed["rows"])
    shown = tenggat(tmp_path, seeded, "outbox", "--limit", "60").stdout
    total = len(notices) + 1
    assert f"Antrean kirim: menunggu 0, sedang dikirim 0, terkirim {total}, gagal 0" in shown
    assert "ringkasan mingguan 2025-W10" in shown and "lewat batas waktu SKP 2025 H+1" in shown
    assert shown.count("terkirim (1×)") == 60 and "2025-03-03 09:00" in shown  # local time


def test_after_three_days_down_each_open_occurrence_gets_its_newest_step_once(
    database_url: str,
) -> None:
    seed_roster(database_url)
    before = datetime(2025, 2, 21, 9, tzinfo=WITA)  # Friday: SKP's H-7 reminder is out
    after = datetime(2025, 2, 26, 9, tzinfo=WITA)  # Wednesday: down across Tuesday's H-3
    service_on(database_url, before).tick()
    sent_before = {key for key, _ in deliveries(database_url)}
    service = service_on(database_url, after)
    planned = service.tick()
    caught_up = {key for key, _ in deliveries(database_url)} - sent_before
    notices = [n for n in planned if n.key in caught_up]
    occurrences = [(n.employee, n.rule, n.period, n.recipient) for n in notices]
    assert notices and len(occurrences) == len(set(occurrences))  # one each, no burst
    assert caught_up - {n.key for n in notices} == {
        f"digest|2025-W09|*|{SECRETARY}"
    }  # and the week's digest
    skp = {n.step for n in notices if n.rule == "SKP"}
    assert skp == {"H-3"}  # SKP is due Friday 28 February: H-3 was Tuesday, H-1 is Thursday
    console = service.channels["console"]
    assert isinstance(console, ConsoleChannel) and isinstance(console.stream, io.StringIO)
    printed = console.stream.getvalue().split("[console] → ")[1:]
    assert len(printed) == len({n.recipient for n in notices}) + 1  # one message a person


def test_the_weekly_digest_is_queued_once_a_week_and_caught_up(database_url: str) -> None:
    seed_roster(database_url)
    monday_early = datetime(2025, 3, 3, 7, 0, tzinfo=WITA)
    wednesday = datetime(2025, 3, 5, 10, 0, tzinfo=WITA)
    service = service_on(database_url, wednesday)
    assert service.queue_digests(monday_early) == 0  # not before Monday 07:30
    assert service.queue_digests(wednesday) == 1  # down on Monday: caught up on Wednesday
    assert service.queue_digests(wednesday + timedelta(days=2)) == 0  # once a week
    assert service.queue_digests(datetime(2025, 3, 10, 7, 30, tzinfo=WITA)) == 1  # next week


def test_housekeeping_forgets_only_long_expired_unused_link_codes(database_url: str) -> None:
    seed_roster(database_url)
    service = service_on(database_url, MARCH_3)
    with service.db.write() as session:
        employee = session.scalars(select(models.Employee).filter_by(key=SECRETARY)).one()
        old = MARCH_3 - timedelta(days=60)
        for number, used in enumerate((None, old, None)):
            session.add(
                models.LinkCode(
                    code_hash=f"{number:064d}", employee_id=employee.id, created_at=old,
                    expires_at=old if number < 2 else MARCH_3, used_at=used,
                    used_chat="42" if used else None, created_by="test",
                )
            )  # fmt: skip
    assert service.housekeeping(MARCH_3) == 1
    with service.db.read() as session:
        kept = session.scalars(select(models.LinkCode.code_hash).order_by(models.LinkCode.id))
        assert [h[-1] for h in kept] == ["1", "2"]  # the used one, and the one still valid
    assert service.housekeeping(MARCH_3) == 0
