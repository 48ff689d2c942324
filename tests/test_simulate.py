"""``tenggat simulate`` on the seed roster: the shortcut (evaluate only where the plan can
change) equals ticking every tick, the real service ticked at the moments it names sends
the same keys then, the sending window holds, the output is deterministic, nothing is
written, and bad input is refused."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import dump_tables
from sqlalchemy import select

from notifications.console import ConsoleChannel
from rules.calendar import WITA, LegalCalendar, SendingWindow
from rules.evaluate import evaluate
from rules.plan import Notice, plan
from rules.schedule import Schedule
from rules.timeline import Ticks, replay
from scheduler.cli.main import cli
from scheduler.config import Config, load_config
from scheduler.iki.apply import apply_import
from scheduler.iki.document import parse_iki
from scheduler.service.simulate import simulate
from scheduler.service.tick import Service
from scheduler.store import models, records, submissions
from scheduler.store.contacts import Contact, route
from scheduler.store.db import Database

TENGGAT = Path(sys.executable).parent / "tenggat"
SEED = resources.files("scheduler").joinpath("data/iki_2025_kesbangpol_kukar.txt")
SECRETARY = "197105152000121003"  # SUTRISNO
STAFF = "197201202009021001"  # AHMAD JUNAIDI
KABID = "196905221997031004"  # ZUKIPLI
YANTI = "197110122007012026"  # YANTI HEIDA YANI, submits nothing
IMPORTED = datetime(2024, 12, 30, 9, tzinfo=WITA)
YEAR = ("--from", "2025-01-01", "--to", "2025-12-31")


def seed(url: str) -> None:
    """The seed roster, APBD 2025 adopted on 20 December 2024, and a few records: on-time,
    late, agency, unverified and exempt."""
    database = Database(url)
    database.migrate()
    config = load_config(None, environ={"TENGGAT_DATABASE_URL": url})
    catalog = config.catalog
    with database.write() as session:
        apply_import(session, parse_iki(SEED.read_text(encoding="utf-8"), catalog), IMPORTED)
        records.set_event(
            session, catalog, "APBD_ADOPTED", "2025", date(2024, 12, 20), IMPORTED, "t"
        )
        for nip, code, period, at, verified in [
            (SECRETARY, "SKP", "2025", datetime(2025, 2, 20, 10, tzinfo=WITA), False),
            (STAFF, "SKP", "2025", datetime(2025, 3, 4, 11, tzinfo=WITA), False),  # late
            (SECRETARY, "EPANTAU", "2025-02", datetime(2025, 2, 7, 9, tzinfo=WITA), True),
            (SECRETARY, "EPANTAU", "2025-03", datetime(2025, 3, 7, 9, tzinfo=WITA), False),
            (SECRETARY, "LKSKPD", "2025", datetime(2025, 1, 20, 9, tzinfo=WITA), False),
        ]:
            employee = records.find_employee(session, nip)
            submissions.add(
                session, employee.id, code, period, at, IMPORTED, "t", verified=verified
            )
        kabid = records.find_employee(session, KABID)
        session.add(
            models.Exemption(
                employee_id=kabid.id, rule_code="SKP", period="2025", reason="cuti besar",
                recorded_by="t", recorded_at=IMPORTED,
            )
        )  # fmt: skip
    database.engine.dispose()


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded SQLite file per module; tests that write work on a copy."""
    path = tmp_path_factory.mktemp("simulate") / "seed.db"
    seed(f"sqlite:///{path}")
    return path


@dataclass
class Env:
    url: str
    cwd: Path

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(cli, list(args))

    def json(self, *args: str) -> Any:
        result = self.run(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        database = Database(self.url)
        try:
            return dump_tables(database.engine)
        finally:
            database.engine.dispose()


@pytest.fixture
def env(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seeded_file: Path
) -> Iterator[Env]:
    """The seeded records in a database of each kind, no TENGGAT_* but its URL."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("TENGGAT_"):
            monkeypatch.delenv(name)
    if database_url.startswith("sqlite"):
        shutil.copy(seeded_file, tmp_path / "tenggat.db")
    else:
        seed(database_url)
    monkeypatch.setenv("TENGGAT_DATABASE_URL", database_url)
    yield Env(database_url, tmp_path)
    import gc

    gc.collect()  # close the pools of the engines the in-process commands left behind


def config_for(url: str, **environ: str) -> Config:
    return load_config(None, environ={"TENGGAT_DATABASE_URL": url, **environ})


# --------------------------------------------------------------------------- the shortcut


def ticking(
    schedule: Schedule,
    snap: records.Snapshot,
    start: datetime,
    end: datetime,
    every: timedelta,
    window: SendingWindow,
) -> dict[str, tuple[Notice, datetime, datetime]]:
    """The long way round: evaluate and plan at every tick, queue what is new (the outbox
    refuses a key it holds) and send everything queued at each tick inside the window; after
    ``end``, keep ticking only to send what waits."""
    calendar = schedule.calendar
    queued: dict[str, tuple[Notice, datetime]] = {}
    sent: dict[str, datetime] = {}
    now = start
    while now < end or len(sent) < len(queued):
        if now < end:
            evaluation = evaluate(
                schedule, snap.roster, snap.submissions, snap.events, now, hindsight=True
            )
            for notice in plan(schedule, snap.roster, evaluation):
                queued.setdefault(notice.key, (notice, now))
        if calendar.sending_window(now, window) == now:
            for key in queued.keys() - sent.keys():
                sent[key] = now
        now += every
    return {key: (notice, at, sent[key]) for key, (notice, at) in queued.items()}


@pytest.mark.parametrize(
    ("first", "last", "minutes", "settings"),
    [
        # SKP, LKjIP and SI RUP due on Friday 28 February: H-7 caught up at the start, the
        # steps up to H+5, EPANTAU's March reminders, two weekends
        (date(2025, 2, 24), date(2025, 3, 9), 15, ""),
        # From Nyepi (Saturday 29 March) through Idul Fitri and its cuti bersama, with SPT due
        # on 31 March; 35-minute ticks out of step with 07:30, and reminders at 18:30, after
        # the window closes: every notice waits for an opening, some for ten days
        (date(2025, 3, 29), date(2025, 4, 11), 35, "reminder_time = 18:30:00\n"),
        # Across the new year: the evaluation window jumps, 2026's occurrences begin
        (date(2025, 12, 24), date(2026, 1, 6), 60, ""),
    ],
    ids=["feb-mar-15min", "lebaran-35min-evening", "new-year-60min"],
)
def test_the_shortcut_equals_ticking_every_tick(
    seeded_file: Path, tmp_path: Path, first: date, last: date, minutes: int, settings: str
) -> None:
    url = f"sqlite:///{seeded_file}"
    (tmp_path / "config.toml").write_text(settings, encoding="utf-8")
    config = load_config(str(tmp_path / "config.toml"), environ={"TENGGAT_DATABASE_URL": url})
    schedule, window = config.schedule(), config.window()
    database = Database(url)
    with database.read() as session:
        snap = records.snapshot(session, config.catalog, since_year=first.year - 1)
    database.engine.dispose()
    start = datetime.combine(first, time(0), tzinfo=WITA)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=WITA)
    every = timedelta(minutes=minutes)

    fast = replay(schedule, snap.roster, snap.submissions, snap.events, start, end, every, window)
    slow = ticking(schedule, snap, start, end, every, window)

    assert len(fast) == len({q.notice.key for q in fast})  # each key queued once
    assert {q.notice.key: (q.notice, q.queued, q.sent) for q in fast} == slow
    # and it is not an empty claim: catch-up, steps, escalations and waits are all there
    kinds = {q.notice.kind.value for q in fast}
    assert {"reminder", "overdue", "escalation"} <= kinds
    assert any(q.queued == start for q in fast)
    assert any(q.queued > start for q in fast)
    assert any(q.sent > q.queued for q in fast)
    if settings:
        assert all(q.sent > q.queued for q in fast)
        assert max(q.sent - q.queued for q in fast) > timedelta(days=9)


def test_the_real_service_sends_the_same_keys_at_the_same_moments(
    seeded_file: Path, tmp_path: Path
) -> None:
    """The service itself (outbox, dispatcher, console), ticked at every moment the
    simulation names and nowhere else, sends exactly those keys at exactly those moments:
    the outbox and the dispatcher's grouping are what the simulation says they are.

    A period with nothing handed in inside it: the simulation reads the records once, as
    they are, while each tick of the service reads what was handed in by its moment.  From
    e-Pantau's unverified March input (the verifier's) to the SPT and P3DN reminders."""
    path = tmp_path / "copy.db"
    shutil.copy(seeded_file, path)
    url = f"sqlite:///{path}"
    config = config_for(url)
    first, last = date(2025, 3, 10), date(2025, 3, 23)
    database = Database(url)
    found = simulate(config, database, first, last)
    expected = {q.notice.key: m.at for m in found.messages for q in m.notices}
    expected |= {m.digest.key: m.at for m in found.messages if m.digest}
    moments = sorted(
        {m.at for m in found.messages}
        | {q.queued for m in found.messages for q in m.notices}
        | {m.digest.queued for m in found.messages if m.digest}
    )
    clock = [moments[0]]
    service = Service(config, lambda: clock[0], database)
    console = io.StringIO()
    service.channels["console"] = ConsoleChannel(console)
    for moment in moments:
        clock[0] = moment
        service.tick(moment)
    with database.read() as session:
        rows = session.execute(select(models.Outbox.key, models.Outbox.sent_at)).all()
    database.engine.dispose()
    assert {key: sent for key, sent in rows} == expected
    # one message per person and run, as the timeline groups them
    assert console.getvalue().count("→ ") == len(found.messages)


# --------------------------------------------------------------------------- the command


def test_a_year_is_deterministic_and_changes_nothing(env: Env) -> None:
    before = env.dump()
    first, second = env.run("simulate", *YEAR), env.run("simulate", *YEAR)
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    assert env.json("simulate", *YEAR) == env.json("simulate", *YEAR)
    assert env.dump() == before  # nothing written: no outbox row, no health record
    lines = first.stdout.splitlines()
    assert lines[0].startswith("Simulasi 2025-01-01 s.d. 2025-12-31 (WITA)")
    assert lines[-1].endswith("untuk 58 penerima.")


def test_the_timeline_says_who_what_when_and_why(env: Env) -> None:
    data = env.json("simulate", "--from", "2025-02-17", "--to", "2025-03-09")
    messages = data["messages"]
    assert data["summary"] == {
        "messages": len(messages),
        "notices": sum(len(m["notices"]) for m in messages),
        "digests": sum(m["digest"] is not None for m in messages),
        "recipients": len({m["recipient"] for m in messages}),
        "after_period": 0,
    }
    notices = [n | {"at": m["at"], "to": m["recipient"]} for m in messages for n in m["notices"]]
    skp = {(n["employee"], n["step"], n["to"]): n for n in notices if n["rule"] == "SKP"}
    # the Secretary submitted on time and the Kabid is exempt: neither is reminded of SKP
    assert not [key for key in skp if key[0] in (SECRETARY, KABID)]
    # H-3 of Friday 28 February is Tuesday 25 February, at the reminder time
    h3 = skp[(YANTI, "H-3", YANTI)]
    assert (h3["at"], h3["kind"], h3["due"]) == (
        "2025-02-25T08:00:00+08:00",
        "reminder",
        "2025-02-28",
    )
    # H+1 (Monday 3 March) to her and her direct superior, in one message each
    h1 = {
        n["to"]: n
        for n in notices
        if (n["employee"], n["rule"], n["step"]) == (YANTI, "SKP", "H+1")
    }
    assert len(h1) == 2 and h1[YANTI]["kind"] == "overdue" and h1[YANTI]["days_late"] == 3
    (boss,) = h1.keys() - {YANTI}
    assert (h1[boss]["kind"], h1[boss]["at"]) == ("escalation", "2025-03-03T08:00:00+08:00")
    # the records are taken as they are: a submission counts whatever its date, as with
    # `run --once --as-of`, so the one handed in late on 4 March stops every SKP notice
    assert not [key for key in skp if key[0] == STAFF]
    # someone else's H+5 reaches the Secretary, and H+1 their direct superior
    escalated = [n for n in notices if n["rule"] == "SKP" and n["step"] == "H+5"]
    assert {n["to"] for n in escalated if n["role"] == "secretary"} == {SECRETARY}
    assert all(n["kind"] == "escalation" for n in escalated if n["to"] != n["employee"])
    # one message per person and moment
    pairs = [(m["at"], m["recipient"], m["digest"] is None) for m in messages]
    assert len(pairs) == len(set(pairs))
    # the weekly digests: Mondays 07:30, the Secretary only
    digests = [m for m in messages if m["digest"]]
    assert [(m["at"], m["recipient"]) for m in digests] == [
        (f"2025-{day}T07:30:00+08:00", SECRETARY) for day in ("02-17", "02-24", "03-03")
    ]


def test_the_sending_window_holds_and_nothing_is_dropped(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    calendar = LegalCalendar()

    def keys(data: dict[str, Any]) -> set[str]:
        return {n["key"] for m in data["messages"] for n in m["notices"]}

    def inside(data: dict[str, Any]) -> None:
        for message in data["messages"]:
            at = datetime.fromisoformat(message["at"])
            assert time(7, 30) <= at.time() < time(17), message
            assert calendar.is_working_day(at.date()), message
            for notice in message["notices"]:
                assert datetime.fromisoformat(notice["queued"]) <= at

    default = env.json("simulate", *YEAR)
    assert default["summary"]["messages"] > 1000
    inside(default)
    # reminders due at 18:30, after the window closes: each waits for the next opening
    (env.cwd / "config.toml").write_text("reminder_time = 18:30:00\n", encoding="utf-8")
    evening = env.json("simulate", *YEAR)
    inside(evening)
    assert all(n["queued"] != m["at"] for m in evening["messages"] for n in m["notices"])
    assert keys(evening) == keys(default)  # later, never dropped
    assert evening["summary"]["after_period"] >= 1  # 31 December's go out in January
    (env.cwd / "config.toml").unlink()
    # a window open at all hours of every day changes when, never what
    monkeypatch.setenv("TENGGAT_DELIVERY_START", "00:00:00")
    monkeypatch.setenv("TENGGAT_DELIVERY_END", "23:59:59")
    monkeypatch.setenv("TENGGAT_DELIVERY_WORKING_DAYS_ONLY", "false")
    always = env.json("simulate", *YEAR)
    assert keys(always) == keys(default)
    assert all(n["queued"] == m["at"] for m in always["messages"] for n in m["notices"])


def test_a_narrower_window_is_respected(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENGGAT_DELIVERY_START", "10:00:00")
    monkeypatch.setenv("TENGGAT_DELIVERY_END", "12:00:00")
    data = env.json("simulate", "--from", "2025-02-01", "--to", "2025-03-31")
    assert data["messages"]
    assert all(
        time(10) <= datetime.fromisoformat(m["at"]).time() < time(12) for m in data["messages"]
    )
    assert data["window"] == {"start": "10:00", "end": "12:00", "working_days_only": True}


def test_english_timeline(env: Env) -> None:
    result = env.run("simulate", "--from", "2025-02-24", "--to", "2025-03-09", "--lang", "en")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("Simulation 2025-02-24 to 2025-03-09 (WITA)")
    assert "2025-02-25 Tue 08:00  YANTI HEIDA YANI (197110122007012026) · console" in text
    assert "    SKP 2025 H-3 reminder, due 2025-02-28" in text
    assert "escalation: " in text and "days late" in text
    assert "weekly digest 2025-W10 (whole agency)" in text
    assert "planned 2025-02-24 Mon 00:00, waited for the sending window" in text
    assert text.rstrip().splitlines()[-1].endswith("recipients.")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ("--from", "2025-03-01", "--to", "2025-02-01"),
            "--to 2025-02-01 sebelum --from 2025-03-01",
        ),
        (("--from", "2025-02-30", "--to", "2025-03-01"), "tidak ada tanggal 30 pada bulan 02"),
        (("--from", "kemarin", "--to", "2025-03-01"), "'kemarin' tidak terbaca sebagai tanggal"),
        (("--from", "2025-01-01"), "Opsi wajib belum diisi: '--to'"),
        (("--to", "2025-01-01"), "Opsi wajib belum diisi: '--from'"),
    ],
)
def test_bad_input_is_refused(env: Env, args: tuple[str, ...], says: str) -> None:
    before = env.dump()
    result = env.run("simulate", *args)
    assert result.exit_code == 2
    assert says in result.output
    assert env.dump() == before


def test_an_uninitialised_database_is_refused(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
    environ["TENGGAT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.db'}"
    done = subprocess.run(
        [str(TENGGAT), "simulate", *YEAR], cwd=tmp_path, env=environ, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "tenggat init" in done.stderr


def test_channels_are_chosen_as_the_dispatcher_chooses_them(seeded_file: Path) -> None:
    url = f"sqlite:///{seeded_file}"
    for environ in (
        {},
        {"TENGGAT_SMTP_HOST": "smtp.example.go.id"},
        {"TENGGAT_TELEGRAM_TOKEN": "123:abc"},
        {"TENGGAT_TELEGRAM_TOKEN": "123:abc", "TENGGAT_SMTP_HOST": "smtp.example.go.id"},
    ):
        config = config_for(url, **environ)
        database = Database(url)
        service = Service(config, lambda: IMPORTED, database)
        found = simulate(config, database, date(2025, 3, 3), date(2025, 3, 3))
        assert found.channels == list(service.channels)
        for chat in (None, "123456"):
            for email in (None, "a@example.go.id"):
                person = Contact("A", None, email, chat)
                expected = "telegram" if chat and "telegram" in found.channels else None
                expected = expected or ("email" if email and "email" in found.channels else None)
                assert route(person, found.channels)[0] == (expected or "console")
        database.engine.dispose()


def test_ticks_round_up_to_the_service_clock() -> None:
    start = datetime(2025, 2, 24, tzinfo=WITA)
    ticks = Ticks(start, timedelta(minutes=35))
    assert ticks.ceil(start - timedelta(days=3)) == start
    assert ticks.ceil(start.replace(hour=8)) == start.replace(hour=8, minute=10)
    assert ticks.ceil(start.replace(hour=8, minute=10)) == start.replace(hour=8, minute=10)
    calendar, window = LegalCalendar(), SendingWindow()
    # Friday 17:00 is shut: the first tick of Monday's opening (07:35 on this clock)
    friday = datetime(2025, 2, 28, 17, tzinfo=WITA)
    assert ticks.sending(friday, calendar, window) == datetime(2025, 3, 3, 7, 35, tzinfo=WITA)


def test_the_console_script_prints_the_same(
    seeded_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console script end to end, as bench/simulate.py times it."""
    url = f"sqlite:///{seeded_file}"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
    environ["TENGGAT_DATABASE_URL"] = url
    args = ["simulate", "--from", "2025-02-24", "--to", "2025-03-02"]
    done = subprocess.run(
        [str(TENGGAT), *args], cwd=tmp_path, env=environ, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TENGGAT_DATABASE_URL", url)
    assert done.stdout == CliRunner().invoke(cli, args).stdout
