"""scheduler.service.health and `tenggat health`: what the service says about itself, on real
databases, through the library, the command line and the HTTP endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from conftest import free_port
from sqlalchemy import select

from rules.calendar import WITA
from scheduler.cli.main import cli
from scheduler.config import ConfigError, load_config
from scheduler.service.health import DEAD_WINDOW, report
from scheduler.store import models
from scheduler.store.db import INSTANCE, Database
from scheduler.store.state import LAST_ERROR, LAST_TICK, LAST_TICK_AS_OF, record
from scheduler.web.app import build
from scheduler.web.server import serve

NOW = datetime(2025, 3, 3, 9, tzinfo=WITA)
TOKEN = "123456:AAE-health-secret-token"


def row(key: str, state: str, planned: datetime, **values: Any) -> models.Outbox:
    """An outbox row as the plan writes it, in ``state``."""
    fields: dict[str, Any] = {
        "key": key, "recipient": "197105152000121003", "role": "employee", "kind": "reminder",
        "employee": "197105152000121003", "rule_code": "SKP", "period": "2025", "step": "H-3",
        "due": date(2025, 2, 28), "days_late": None, "planned_at": planned, "state": state,
        "attempts": 0, "next_attempt_at": planned,
    }  # fmt: skip
    return models.Outbox(**(fields | values))


def dead_letter(session: Any, key: str, reason: str, tried: datetime) -> None:
    """A notice that failed for good: the row and the attempt that killed it."""
    letter = row(key, "dead", tried - timedelta(hours=1), receipt=reason, attempts=1)
    session.add(letter)
    session.flush()
    session.add(
        models.Delivery(
            outbox_id=letter.id, attempt=1, channel="email", worker="w", at=tried,
            outcome="permanent", detail=reason,
        )
    )  # fmt: skip


def test_record_inserts_then_updates_one_row(database: Database) -> None:
    with database.write() as session:
        record(session, LAST_TICK, "statuses=1", NOW)
    with database.write() as session:
        record(session, LAST_TICK, "statuses=2", NOW + timedelta(minutes=15))
    with database.read() as session:
        rows = session.execute(select(models.ServiceState.name, models.ServiceState.value,
                                      models.ServiceState.at)
                               .where(models.ServiceState.name != INSTANCE)).all()  # fmt: skip
    assert rows == [(LAST_TICK, "statuses=2", NOW + timedelta(minutes=15))]


def test_a_fresh_database_has_never_ticked(database: Database) -> None:
    with database.read() as session:
        health = report(session, NOW, 15)
    assert not health.healthy
    assert [p.code for p in health.problems] == ["never_ticked"]
    assert (health.pending, health.claimed, health.dead, health.last_tick) == (0, 0, 0, None)


def test_a_recent_tick_is_healthy_and_one_older_than_two_ticks_is_not(database: Database) -> None:
    with database.write() as session:
        record(session, LAST_TICK, "statuses=500 sent=3", NOW - timedelta(minutes=29))
    with database.read() as session:
        fresh = report(session, NOW, 15)
        stale = report(session, NOW + timedelta(minutes=2), 15)
    assert fresh.healthy, fresh.problems
    assert fresh.tick_age == timedelta(minutes=29)
    assert fresh.last_tick_summary == "statuses=500 sent=3"
    assert [p.code for p in stale.problems] == ["tick_stale"]
    assert "30 menit" in stale.as_json("id")["problems"][0]["message"]
    assert "(terakhir 2025-03-03T08:31+08:00)" in stale.as_json("id")["problems"][0]["message"]


def test_an_error_after_the_last_tick_is_a_failed_tick(database: Database) -> None:
    with database.write() as session:
        record(session, LAST_TICK, "ok", NOW - timedelta(minutes=10))
        record(session, LAST_ERROR, "OperationalError: disk I/O error", NOW - timedelta(minutes=5))
    with database.read() as session:
        failed = report(session, NOW, 15)
    with database.write() as session:
        record(session, LAST_TICK, "ok", NOW)
    with database.read() as session:
        recovered = report(session, NOW, 15)
    assert [p.code for p in failed.problems] == ["tick_failed"]
    assert "disk I/O error" in failed.as_json("en")["problems"][0]["message"]
    assert recovered.healthy
    assert recovered.last_error == "OperationalError: disk I/O error"  # still shown
    assert recovered.last_error_at == NOW - timedelta(minutes=5)


def test_outbox_backlog_and_dead_letters(database: Database) -> None:
    with database.write() as session:
        record(session, LAST_TICK, "ok", NOW)
        session.add_all([
            row("overdue", "pending", NOW - timedelta(hours=3)),
            row("backoff", "pending", NOW - timedelta(minutes=5),
                next_attempt_at=NOW + timedelta(minutes=10)),
            row("sending", "claimed", NOW - timedelta(minutes=40),
                claimed_at=NOW - timedelta(minutes=20), claimed_by="w"),
            row("done", "sent", NOW - timedelta(days=1), sent_at=NOW - timedelta(days=1)),
        ])  # fmt: skip
        dead_letter(session, "old", "address refused: old@x.go.id", NOW - timedelta(days=3))
        dead_letter(session, "new", "address refused: new@x.go.id", NOW - timedelta(hours=1))
    with database.read() as session:
        health = report(session, NOW, 15)
    assert (health.pending, health.pending_due, health.overdue) == (2, 1, 1)
    assert health.oldest_pending == NOW - timedelta(hours=3)
    assert health.oldest_pending_age == timedelta(hours=3)
    assert (health.claimed, health.stale_claims) == (1, 1)
    assert (health.dead, health.dead_recent) == (2, 1)
    assert health.latest_dead is not None
    assert health.latest_dead.reason == "address refused: new@x.go.id"
    assert health.latest_dead.at == NOW - timedelta(hours=1)
    assert [p.code for p in health.problems] == ["backlog", "dead_letters"]
    data = health.as_json("en")
    assert data["outbox"]["latest_dead"]["key"] == "new"
    assert data["outbox"]["oldest_pending_age_seconds"] == 3 * 3600
    json.dumps(data)  # all of it is JSON


def test_an_old_dead_letter_is_shown_but_no_longer_unhealthy(database: Database) -> None:
    with database.write() as session:
        record(session, LAST_TICK, "ok", NOW)
        dead_letter(session, "old", "SMTP 550", NOW - DEAD_WINDOW - timedelta(minutes=1))
    with database.read() as session:
        health = report(session, NOW, 15)
    assert health.healthy
    assert (health.dead, health.dead_recent) == (1, 0)
    assert health.latest_dead is not None and health.latest_dead.reason == "SMTP 550"


# --------------------------------------------------------------------------- HTTP


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_health_endpoint_says_503_until_the_service_ticks(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENGGAT_TELEGRAM_TOKEN", TOKEN)
    port = free_port()
    config = load_config(
        None,
        environ={
            "TENGGAT_DATABASE_URL": database.url.render_as_string(hide_password=False),
            "TENGGAT_WEB_PORT": str(port),
            "TENGGAT_SERVICE_LANGUAGE": "en",
            "TENGGAT_TELEGRAM_TOKEN": TOKEN,
        },
    )
    assert config.settings.web.port == port
    server = serve(build(database, config), "127.0.0.1", port)
    try:
        base = f"http://127.0.0.1:{port}"
        status, body = get(f"{base}/health")
        assert status == 503
        assert body["healthy"] is False
        assert [p["code"] for p in body["problems"]] == ["never_ticked"]

        now = datetime.now(ZoneInfo("Asia/Makassar"))
        with database.write() as session:
            record(session, LAST_TICK, "ok", now)
            error = f"send failed: bot{TOKEN}/sendMessage"
            record(session, LAST_ERROR, error, now + timedelta(seconds=1))
        status, body = get(f"{base}/health")
        assert status == 503 and body["problems"][0]["code"] == "tick_failed"
        assert TOKEN not in json.dumps(body) and TOKEN.split(":")[1] not in json.dumps(body)
        assert "bot***/sendMessage" in body["last_error"]["message"]

        with database.write() as session:
            record(session, LAST_TICK, "statuses=500 sent=3", now + timedelta(seconds=2))
        status, body = get(f"{base}/health")
        assert status == 200
        assert body["healthy"] is True and body["last_tick"]["summary"] == "statuses=500 sent=3"

        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/metrics", timeout=30)
        assert missing.value.code == 404
    finally:
        server.stop()


def test_the_web_is_off_by_default_and_an_old_health_port_says_where_it_went() -> None:
    assert load_config(None, environ={}).settings.web.port == 0
    with pytest.raises(ConfigError, match=r"moved to web\.port"):
        load_config(None, environ={"TENGGAT_SERVICE_HEALTH_PORT": "8765"})


# --------------------------------------------------------------------------- the command


@pytest.fixture
def env(database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The migrated database as TENGGAT_DATABASE_URL, in an empty working directory."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("TENGGAT_"):
            monkeypatch.delenv(name)
    url = database.url.render_as_string(hide_password=False)
    monkeypatch.setenv("TENGGAT_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "200")
    yield url
    import gc

    gc.collect()  # close the pools of the engines the in-process commands left behind


def tenggat(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_health_command_exit_status_follows_the_health(env: str, database: Database) -> None:
    never = tenggat("health", "--json")
    assert never.exit_code == 1, never.output
    assert json.loads(never.stdout)["problems"][0]["code"] == "never_ticked"
    people = tenggat("health")
    assert people.exit_code == 1
    assert "TIDAK SEHAT" in people.output and "belum pernah" in people.output

    with database.write() as session:
        record(session, LAST_TICK, "statuses=500 sent=3", datetime.now(WITA))
        dead_letter(session, "k1", "address refused: a@x.go.id", datetime.now(WITA))
    failing = tenggat("--lang", "en", "health")
    assert failing.exit_code == 1
    assert "UNHEALTHY" in failing.output and "address refused: a@x.go.id" in failing.output
    with database.write() as session:
        session.execute(models.Delivery.__table__.delete())
        session.execute(models.Outbox.__table__.delete())
    healthy = tenggat("--lang", "en", "health")
    assert healthy.exit_code == 0, healthy.output
    assert "HEALTHY" in healthy.output and "statuses=500 sent=3" in healthy.output
    data = json.loads(tenggat("health", "--json").stdout)
    assert data["healthy"] is True and data["last_tick"]["age_seconds"] >= 0


def test_health_on_an_uninitialised_database_says_run_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TENGGAT_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    result = tenggat("health")
    assert result.exit_code == 1  # unhealthy, as a monitor reads it, and why
    assert "tenggat init" in result.output


def test_health_says_when_the_last_tick_was_a_replay(env: str, database: Database) -> None:
    """`run --once --as-of` ticks for a moment of the admin's choosing; health must not pass
    that off as the clock's own tick, and a tick on the clock clears the note."""
    replay = tenggat("run", "--once", "--as-of", "2025-03-03 09:00")
    assert replay.exit_code == 0, replay.output
    told = tenggat("health")
    assert "ulangan untuk 2025-03-03 09:00 WITA" in told.output, told.output
    english = tenggat("--lang", "en", "health")
    assert "replay of 2025-03-03 09:00 WITA" in english.output, english.output
    data = json.loads(tenggat("health", "--json").stdout)
    assert data["last_tick"]["replay_of"] == "2025-03-03T09:00:00+08:00"
    assert tenggat("run", "--once").exit_code == 0
    assert "ulangan" not in tenggat("health").output
    assert json.loads(tenggat("health", "--json").stdout)["last_tick"]["replay_of"] is None


def test_the_health_endpoint_says_an_unreachable_database_as_the_command_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 503 names the database as `tenggat health` does when it cannot reach it: the
    same sentence, the driver's first line as `db.failure` gives it, no password."""
    url = f"postgresql+psycopg://postgres:pw-not-shown@127.0.0.1:{free_port()}/test"
    port = free_port()
    environ = {"TENGGAT_DATABASE_URL": url, "TENGGAT_SERVICE_LANGUAGE": "en"}
    config = load_config(None, environ=environ | {"TENGGAT_WEB_PORT": str(port)})
    database = Database(url)
    server = serve(build(database, config), "127.0.0.1", port)
    try:
        status, body = get(f"http://127.0.0.1:{port}/health")
    finally:
        server.stop()
        database.engine.dispose()
    (problem,) = body["problems"]
    assert status == 503 and problem["code"] == "unavailable"
    shown = url.replace("pw-not-shown", "***")
    assert problem["message"].startswith(f"the database {shown} cannot be used: "), problem
    assert "connection failed" in problem["message"], problem
    assert "pw-not-shown" not in json.dumps(body)

    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("TENGGAT_"):
            monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    command = tenggat("health", "--json")
    assert command.exit_code == 1, command.output
    assert json.loads(command.stdout) == body


# A fault of ours behind the endpoint: the service's own log line, through the redacting
# handler `tenggat run` installs, and a 500 that tells the monitor nothing more.
FAULT_SCRIPT = """if True:
    import json, sys, urllib.error, urllib.request
    from scheduler import logs
    from scheduler.config import load_config
    from scheduler.store.db import Database
    from scheduler.web.app import build
    from scheduler.web.server import serve

    config = load_config()
    logs.configure("info", config)
    database = Database(config.settings.database.url)
    server = serve(build(database, config), "127.0.0.1", int(sys.argv[1]))
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=30)
    except urllib.error.HTTPError as error:
        print(json.dumps({"status": error.code, "body": json.loads(error.read())}))
    finally:
        server.stop()
        database.engine.dispose()
"""


def test_a_fault_of_ours_behind_the_endpoint_is_logged_and_answered_500_without_details(
    database: Database,
) -> None:
    """Not every exception is the database being away: one of ours (here a replay moment
    the code cannot read, kept in a well-working database) is logged with its traceback,
    the secrets taken out, and answered 500 without the error, not 503 "cannot be read"."""
    with database.write() as session:
        record(session, LAST_TICK, "ok", datetime.now(WITA))
        record(session, LAST_TICK_AS_OF, f"/bot{TOKEN}/sendMessage", datetime.now(WITA))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")} | {
        "TENGGAT_DATABASE_URL": database.url.render_as_string(hide_password=False),
        "TENGGAT_WEB_PORT": str(port),
        "TENGGAT_SERVICE_LANGUAGE": "en",
        "TENGGAT_TELEGRAM_TOKEN": TOKEN,
    }
    done = subprocess.run(
        [sys.executable, "-c", FAULT_SCRIPT, str(port)], env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["status"] == 500, answer
    (problem,) = answer["body"]["problems"]
    assert answer["body"]["healthy"] is False and problem["code"] == "error", answer
    assert "ValueError" not in done.stdout and "/bot" not in done.stdout
    assert "Traceback" in done.stderr and "ValueError" in done.stderr, done.stderr
    assert "/bot***/sendMessage" in done.stderr, done.stderr
    assert TOKEN not in done.stderr and TOKEN.split(":")[1] not in done.stderr
