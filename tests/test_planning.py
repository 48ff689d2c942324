"""A tick plans what changed: nothing when nothing did, the people whose records changed
when only they did (and then exactly what a tick planning everyone would queue), everyone
on a new day, at the reminder time, or when the roster changed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from test_service import MARCH_3, SECRETARY, deliveries, seed_roster, service_on

from rules.calendar import WITA
from rules.plan import Notice
from scheduler.service import planning
from scheduler.service.planning import Extent
from scheduler.service.tick import Service
from scheduler.store import changes, models, records, state, submissions
from scheduler.store.db import Database

STAFF = "197201202009021001"  # AHMAD JUNAIDI, Sekretariat, reports to the Kasubbag
KASUBBAG = "197308132007011009"
ANALIS = "197008252000121003"  # H. ABDUL HARIS: carries EPANTAU, a unit's deliverable


def planned(url: str, now: datetime) -> planning.Planned:
    """One planning tick at ``now`` as a fresh process runs it (no dispatch)."""
    service = service_on(url, now)
    try:
        return planning.plan_and_queue(service.config, service.db, now)
    finally:
        service.db.engine.dispose()


def queued_keys(url: str) -> set[str]:
    database = Database(url)
    with database.read() as session:
        found = set(session.scalars(select(models.Outbox.key)))
    database.engine.dispose()
    return found


def mark(url: str) -> planning.Mark:
    database = Database(url)
    with database.read() as session:
        found = planning.Mark.read(state.value(session, state.PLAN_MARK))
    database.engine.dispose()
    assert found is not None
    return found


def everyone(url: str, now: datetime) -> list[Notice]:
    """The plan of a tick that plans everyone at ``now``, read only."""
    service = service_on(url, now)
    try:
        return service.planned(now)[2]
    finally:
        service.db.engine.dispose()


def test_a_tick_with_nothing_new_plans_nothing_and_sends_nothing(database_url: str) -> None:
    seed_roster(database_url)
    first = service_on(database_url, MARCH_3)
    assert first.tick()
    sent = deliveries(database_url)
    later = service_on(database_url, MARCH_3 + timedelta(minutes=15))
    assert later.tick() == []
    assert deliveries(database_url) == sent
    with later.db.read() as session:
        summary = state.value(session, state.LAST_TICK)
    assert summary is not None and summary.startswith("plan=none statuses=0 planned=0")
    with later.db.read() as session:
        revision = changes.revision(session)
    later.housekeeping(MARCH_3 + timedelta(minutes=20))  # the changes planned are forgotten
    with later.db.read() as session:
        assert changes.revision(session) == revision
        assert session.scalar(select(func.count()).select_from(models.RecordChange)) == 1
    assert planned(database_url, MARCH_3 + timedelta(minutes=30)).scope is Extent.NONE


def test_one_persons_records_replan_them_alone_as_planning_everyone_would(
    database_url: str,
) -> None:
    seed_roster(database_url)
    # STAFF is excused from something they owe before the first tick, then no longer:
    # their notices for it appear.  Meanwhile the Kasubbag hands in what he owes and the
    # Analis records his unit's e-Pantau, unverified: his whole unit's notices move.
    owed = next(n for n in everyone(database_url, MARCH_3) if n.employee == STAFF)
    database = Database(database_url)
    with database.write() as session:
        person = records.find_employee(session, STAFF)
        records.exempt(session, person, owed.rule, owed.period, "cuti", MARCH_3, "test")
    assert planned(database_url, MARCH_3).scope is Extent.FULL
    before = queued_keys(database_url)
    assert owed.key not in before

    now = MARCH_3 + timedelta(minutes=15)
    personal = {"SKP", "SPT", "LHKPN", "PK"}  # an agency rule's record is everyone's news
    his = [n for n in everyone(database_url, now) if n.employee == KASUBBAG]
    assert {n.rule for n in his} & personal
    with database.write() as session:
        session.execute(delete(models.Exemption))
        boss = records.find_employee(session, KASUBBAG)
        for notice in (n for n in his if n.rule in personal):
            submissions.add(session, boss.id, notice.rule, notice.period, now, now, "test")
        analis = records.find_employee(session, ANALIS)
        submissions.add(session, analis.id, "EPANTAU", "2025-02", now, now, "test")
        colleagues = {
            e.key for e in session.scalars(select(models.Employee)) if e.unit_id == analis.unit_id
        }
    database.engine.dispose()

    full = everyone(database_url, now)
    expected = {n.key for n in full} - before
    tick = planned(database_url, now)
    assert tick.scope is Extent.CHANGED
    assert queued_keys(database_url) - before == expected
    assert owed.key in expected
    dirty = {STAFF, KASUBBAG} | colleagues
    assert {n.employee for n in tick.notices} <= dirty
    assert set(tick.notices) <= set(full)  # the very notices a full plan makes
    assert {n for n in full if n.employee == STAFF and n.rule == owed.rule} <= set(tick.notices)
    assert len(tick.notices) < len(full) / 4
    assert planned(database_url, now + timedelta(minutes=15)).scope is Extent.NONE


def test_a_new_day_the_reminder_time_and_the_roster_plan_everyone(database_url: str) -> None:
    seed_roster(database_url)
    early = datetime(2025, 3, 3, 7, 0, tzinfo=WITA)
    assert planned(database_url, early).scope is Extent.FULL
    assert mark(database_url).until == datetime(2025, 3, 3, 8, 0, tzinfo=WITA)
    assert planned(database_url, early + timedelta(minutes=30)).scope is Extent.NONE
    assert planned(database_url, MARCH_3).scope is Extent.FULL  # 08:00's steps are due
    assert planned(database_url, MARCH_3 + timedelta(hours=1)).scope is Extent.NONE
    assert mark(database_url).until == datetime(2025, 3, 4, 0, 0, tzinfo=WITA)
    next_day = datetime(2025, 3, 4, 0, 5, tzinfo=WITA)
    assert planned(database_url, next_day).scope is Extent.FULL
    assert planned(database_url, MARCH_3 + timedelta(hours=2)).scope is Extent.FULL  # a replay

    database = Database(database_url)
    with database.write() as session:
        person = records.find_employee(session, STAFF)
        records.set_superior(person, records.find_employee(session, SECRETARY))
    database.engine.dispose()
    assert planned(database_url, next_day + timedelta(minutes=15)).scope is Extent.FULL


def test_a_record_dated_later_ends_the_plan_at_its_moment(database_url: str) -> None:
    """Evaluation leaves out what was handed in after the moment planned for: a plan made
    before it holds only until then."""
    seed_roster(database_url)
    assert planned(database_url, MARCH_3).scope is Extent.FULL
    later = MARCH_3 + timedelta(hours=2)
    database = Database(database_url)
    with database.write() as session:
        person = records.find_employee(session, STAFF)
        submissions.add(session, person.id, "SKP", "2024", later, MARCH_3, "test")
    database.engine.dispose()
    assert planned(database_url, MARCH_3 + timedelta(minutes=15)).scope is Extent.CHANGED
    assert mark(database_url).until == later
    assert planned(database_url, later).scope is Extent.FULL


def test_a_service_standing_by_plans_nothing_and_keeps_no_mark(database_url: str) -> None:
    seed_roster(database_url)
    service: Service = service_on(database_url, MARCH_3)
    service.tick(plan_too=False)
    with service.db.read() as session:
        assert state.value(session, state.PLAN_MARK) is None
    service.db.engine.dispose()
