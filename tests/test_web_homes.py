"""The console's kept homes (`scheduler.web.homes`) over a real seeded database (SQLite and
PostgreSQL): a kept home is shown again while nothing moves it, and computed afresh once a
record is written (the revision moves) or midnight passes; two cold requests compute once.
A slow home is shown as it stood while the next is computed in the background.  Moments
are given, never waited for."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_service import seed_roster

from notifications.digest import Group
from rules.calendar import WITA
from scheduler.cli.main import cli
from scheduler.config import load_config
from scheduler.store import changes
from scheduler.store.db import Database
from scheduler.web import views
from scheduler.web.homes import STALE, Homes, Shown
from scheduler.web.pages import Console
from scheduler.web.visitor import Attempts

STAFF = "197110122007012026"  # YANTI HEIDA YANI: owes SKP 2025 on 10 March 2025
EVENING = datetime(2025, 3, 10, 21, tzinfo=WITA)  # after the reminder time: midnight is next
MIDNIGHT = datetime(2025, 3, 11, tzinfo=WITA)


def overdue(page: views.Home, code: str) -> Group:
    (found,) = (group for group in page.digest.overdue if group.code == code)
    return found


def test_a_kept_home_holds_until_a_record_is_written_or_midnight_passes(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    seed_roster(database_url)
    environ = {"TENGGAT_DATABASE_URL": database_url}
    config = load_config(None, environ=environ)
    db = Database(database_url)
    homes: Homes[views.Home] = Homes()

    def read(now: datetime) -> views.Home:
        with db.read() as session:
            revision = changes.revision(session)
        shown = homes.get(
            (None, "id"), revision, now, lambda: views.home(config, db, now, None, "id")
        )
        assert shown.fresh and shown.at == now  # quick to compute: never shown as it stood
        return shown.page

    try:
        first = read(EVENING)
        assert read(EVENING + timedelta(hours=2)) is first and homes.computed == 1
        assert overdue(first, "SKP").count == 58 and overdue(first, "SKP").days == 10

        runner = CliRunner(env=environ)
        done = runner.invoke(cli, ["submit", STAFF, "SKP", "2025", "--at", "10/03/2025 20.00"])
        assert done.exit_code == 0, done.output
        after = read(EVENING + timedelta(hours=2))
        assert homes.computed == 2 and overdue(after, "SKP").count == 57

        assert read(MIDNIGHT - timedelta(seconds=1)) is after and homes.computed == 2
        tomorrow = read(MIDNIGHT)  # a day later each item is a day later
        assert homes.computed == 3 and overdue(tomorrow, "SKP").days == 11
        assert overdue(tomorrow, "SKP").count == 57
    finally:
        db.engine.dispose()


def test_two_cold_requests_for_one_home_compute_it_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    seed_roster(database_url)
    config = load_config(None, environ={"TENGGAT_DATABASE_URL": database_url})
    db = Database(database_url)
    homes: Homes[views.Home] = Homes()
    computing, release = threading.Event(), threading.Event()
    pages: dict[str, views.Home] = {}

    def first() -> tuple[views.Home, datetime]:
        computing.set()
        release.wait(timeout=60)  # until the second request is in; set early only if it computes
        return views.home(config, db, EVENING, None, "id")

    def second() -> tuple[views.Home, datetime]:  # a cache that lets it compute lets both go
        release.set()
        return views.home(config, db, EVENING, None, "id")

    def request(name: str, compute: Callable[[], tuple[views.Home, datetime]]) -> None:
        pages[name] = homes.get((None, "id"), 7, EVENING, compute).page

    try:
        one = threading.Thread(target=request, args=("one", first))
        two = threading.Thread(target=request, args=("two", second))
        one.start()
        assert computing.wait(timeout=60)
        two.start()
        two.join(timeout=1)  # time for a second computation to happen, were it allowed
        assert two.is_alive()  # it waits for the first instead
        release.set()
        one.join(timeout=60)
        two.join(timeout=60)
        assert pages["one"] is pages["two"] and homes.computed == 1
    finally:
        release.set()
        db.engine.dispose()


def test_a_slow_home_is_shown_as_it_stood_while_the_next_is_computed(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    seed_roster(database_url)
    environ = {"TENGGAT_DATABASE_URL": database_url}
    config = load_config(None, environ=environ)
    db = Database(database_url)
    homes: Homes[views.Home] = Homes(slow=-1.0)  # every home counts as slow to compute
    release = threading.Event()

    def read(now: datetime, held: bool = False) -> Shown[views.Home]:
        with db.read() as session:
            revision = changes.revision(session)

        def compute() -> tuple[views.Home, datetime]:
            if held:
                assert release.wait(timeout=60)
            return views.home(config, db, now, None, "id")

        return homes.get((None, "id"), revision, now, compute)

    try:
        first = read(EVENING)
        assert first.fresh and overdue(first.page, "SKP").count == 58
        runner = CliRunner(env=environ)
        done = runner.invoke(cli, ["submit", STAFF, "SKP", "2025", "--at", "10/03/2025 20.00"])
        assert done.exit_code == 0, done.output

        later = EVENING + timedelta(minutes=5)
        stale = read(later, held=True)  # answered at once, the next held back meanwhile
        assert not stale.fresh and stale.at == EVENING and stale.page is first.page
        again = read(later, held=True)  # one background computation, not one per reader
        assert again.page is first.page and homes.computed == 1
        release.set()
        homes.join()
        assert homes.computed == 2
        after = read(later)
        assert after.fresh and overdue(after.page, "SKP").count == 57

        # Figures older than STALE are not shown: the reader waits for those of now.
        runner.invoke(cli, ["submit", STAFF, "SPT", "2024", "--at", "10/03/2025 20.00"])
        much_later = later + STALE + timedelta(seconds=1)
        waited = read(much_later)
        assert waited.fresh and waited.at == much_later and homes.computed == 3
        said = views.as_of(EVENING, "id", fresh=False)
        assert said.startswith("Keadaan Senin, 10 Maret 2025 pukul 21.00 WITA")
        assert "sedang dihitung" in said
    finally:
        release.set()
        homes.join()
        db.engine.dispose()


def test_the_console_computes_the_agency_home_as_it_starts_and_says_one_line_if_it_cannot(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)
    seed_roster(database_url)
    config = load_config(None, environ={"TENGGAT_DATABASE_URL": database_url})
    db = Database(database_url)
    console = Console(db, config, Attempts(), as_of=EVENING)
    try:
        console.warm()
        assert console.homes.computed == 1
        shown = console.kept_home(None, config.settings.service.language)
        assert console.homes.computed == 1 and overdue(shown, "SKP").count == 58
    finally:
        db.engine.dispose()

    gone = tmp_path / "nowhere" / "tenggat.db"  # a directory that does not exist
    away = Database(f"sqlite:///{gone}")
    with caplog.at_level(logging.WARNING, logger="tenggat"):
        Console(away, config, Attempts(), as_of=EVENING).warm()  # no exception
    (line,) = [r for r in caplog.records if "home not computed at start" in r.getMessage()]
    assert "Traceback" not in line.getMessage() and line.exc_info is None
