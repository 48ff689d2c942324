"""The records layer on real SQLite and PostgreSQL: the seed import, re-imports that keep what
admins set by hand, the snapshot evaluation reads, and the status matrix built from it."""

from __future__ import annotations

from datetime import date, datetime
from importlib import resources
from typing import Any

import pytest
from conftest import dump_tables
from sqlalchemy import select

from rules.calendar import WITA
from rules.catalog import Catalog
from rules.evaluate import Status
from rules.schedule import Event, Schedule
from scheduler.iki.apply import ImportOutcome, apply_import
from scheduler.iki.document import IkiImport, parse_iki
from scheduler.reports.status import Matrix, build
from scheduler.store import models, records, submissions
from scheduler.store.db import Database

SEED = resources.files("scheduler").joinpath("data/iki_2025_kesbangpol_kukar.txt")
SECRETARY = "197105152000121003"  # SUTRISNO: Sekretaris, also Plh. of a bidang
KASUBBAG = "197308132007011009"  # MUHAMMAD ARDANI, head of Umum dan Kepegawaian
STAFF = "197201202009021001"  # AHMAD JUNAIDI, Sekretariat, reports to the Kasubbag
KABID = "196905221997031004"  # ZUKIPLI, carries EPANTAU
ANALIS = "197008252000121003"  # H. ABDUL HARIS, his bidang's Analis: carries EPANTAU
UNITS = {
    "Sekretariat",
    "Bidang Ideologi dan Wawasan Kebangsaan",
    "Bidang Politik Dalam Negeri",
    "Bidang Ketahanan Ekonomi, Sosial dan Budaya",
}
IMPORTED = datetime(2025, 3, 1, 9, 0, tzinfo=WITA)
NOW = datetime(2025, 3, 3, 23, 59, tzinfo=WITA)


@pytest.fixture(scope="module")
def seed(catalog: Catalog) -> IkiImport:
    return parse_iki(SEED.read_text(encoding="utf-8"), catalog)


def load(database: Database, seed: IkiImport, when: datetime = IMPORTED) -> ImportOutcome:
    with database.write() as session:
        return apply_import(session, seed, when)


@pytest.fixture
def seeded(database: Database, seed: IkiImport) -> Database:
    load(database, seed)
    return database


def dump(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    return dump_tables(database.engine)


def employee(database: Database, key: str) -> models.Employee:
    with database.read() as session:
        found = session.scalar(select(models.Employee).where(models.Employee.key == key))
        assert found is not None
        session.expunge(found)
        return found


def codes(database: Database, key: str) -> dict[str, str]:
    """Rule code -> origin of one employee's assignments."""
    with database.read() as session:
        rows = session.execute(
            select(models.Assignment.rule_code, models.Assignment.origin)
            .join(models.Employee, models.Employee.id == models.Assignment.employee_id)
            .where(models.Employee.key == key)
        )
        return {code: origin for code, origin in rows}


def submit(
    database: Database,
    catalog: Catalog,
    key: str,
    code: str,
    period: str,
    at: datetime,
    verified: bool = False,
    verified_at: datetime | None = None,
) -> None:
    with database.write() as session:
        person = records.find_employee(session, key)
        code = records.check_rule_period(catalog, code, period)
        submissions.add(
            session,
            person.id,
            code,
            period,
            at,
            IMPORTED,
            "test",
            verified=verified,
            verified_at=verified_at,
        )


def snap(database: Database, catalog: Catalog, **narrow: Any) -> records.Snapshot:
    with database.read() as session:
        return records.snapshot(session, catalog, **narrow)


def matrix(database: Database, catalog: Catalog, schedule: Schedule) -> Matrix:
    with database.write() as session:
        records.set_event(session, catalog, "APBD_ADOPTED", "2025", date(2024, 12, 20), NOW, "t")
    return build(schedule, snap(database, catalog, since_year=2024), NOW, detail=True)


def status_of(result: Matrix, key: str, rule: str, period: str) -> tuple[Status, int | None]:
    found = [
        (item.status, item.days_late)
        for item in result.evaluation.statuses
        if (item.employee, item.rule, item.period) == (key, rule, period)
    ]
    assert len(found) == 1, found
    return found[0]


# --------------------------------------------------------------------------- seed import


def test_seed_import_creates_the_roster(seeded: Database, seed: IkiImport) -> None:
    assert (len(seed.blocks), len(seed.employees)) == (59, 58)
    with seeded.read() as session:
        people = session.scalars(select(models.Employee)).all()
        units = set(session.scalars(select(models.Unit.name)))
        assignments = session.scalars(select(models.Assignment)).all()
        by_key = {person.key: person for person in people}
        boss = by_key[SECRETARY]
        assert len(people) == 58
        assert units == UNITS
        assert boss.roles.split() == ["secretary", "unit_head"]
        assert boss.superior_id is None
        assert boss.unit is not None and boss.unit.name == "Sekretariat"
        assert by_key[STAFF].superior is not None and by_key[STAFF].superior.key == KASUBBAG
        assert all(p.superior_id is not None for p in people if p.key != SECRETARY)
        assert {p.superior_origin for p in people} == {"iki"}
    assert len(codes(seeded, SECRETARY)) == 15
    assert codes(seeded, STAFF) == {"PK": "iki", "SKP": "iki", "SPT": "iki"}
    assert {a.starts_on for a in assignments} == {date(2025, 1, 1)}
    assert {a.origin for a in assignments} == {"iki"}


def test_reimport_is_idempotent(seeded: Database, seed: IkiImport) -> None:
    before = dump(seeded)
    outcome = load(seeded, seed, datetime(2025, 4, 1, tzinfo=WITA))
    assert (len(outcome.created), len(outcome.updated), len(outcome.unchanged)) == (0, 0, 58)
    assert dump(seeded) == before


def test_manual_superior_survives_reimport(seeded: Database, seed: IkiImport) -> None:
    with seeded.write() as session:
        records.set_superior(
            records.find_employee(session, STAFF), records.find_employee(session, SECRETARY)
        )
    outcome = load(seeded, seed)
    kept = employee(seeded, STAFF)
    assert kept.superior_origin == "manual"
    assert kept.superior_id == employee(seeded, SECRETARY).id
    assert STAFF in outcome.unchanged


def test_manual_assignment_and_admin_role_survive_reimport(
    seeded: Database, seed: IkiImport
) -> None:
    with seeded.write() as session:
        staff = records.find_employee(session, STAFF)
        staff.roles = "admin"
        session.add(models.Assignment(employee_id=staff.id, rule_code="LHKPN", origin="manual"))
        records.find_employee(session, SECRETARY).roles = "admin secretary unit_head"
    outcome = load(seeded, seed)
    assert codes(seeded, STAFF) == {"PK": "iki", "SKP": "iki", "SPT": "iki", "LHKPN": "manual"}
    assert employee(seeded, STAFF).roles == "admin"
    assert set(employee(seeded, SECRETARY).roles.split()) == {"admin", "secretary", "unit_head"}
    assert {STAFF, SECRETARY} <= set(outcome.unchanged)


# --------------------------------------------------------------------------- snapshot


def test_snapshot_reads_roster_assignments_and_events(seeded: Database, catalog: Catalog) -> None:
    with seeded.write() as session:
        records.set_event(session, catalog, "APBD_ADOPTED", "2025", date(2024, 12, 20), NOW, "t")
    snapshot = snap(seeded, catalog)
    assert snapshot.roster.secretary == SECRETARY
    assert len(snapshot.roster.people) == len(snapshot.employees) == 58
    assert snapshot.roster.people[STAFF].superior == KASUBBAG
    assert snapshot.roster.people[SECRETARY].superior is None
    assert {a.since for a in snapshot.roster.assignments} == {date(2025, 1, 1)}
    assert len(snapshot.codes[SECRETARY]) == 15
    assert snapshot.events == [Event("APBD_ADOPTED", "2025", date(2024, 12, 20))]


def test_snapshot_narrowed_to_a_unit_keeps_the_secretary(
    seeded: Database, catalog: Catalog
) -> None:
    snapshot = snap(seeded, catalog, unit="Bidang Politik Dalam Negeri")
    assert 0 < len(snapshot.employees) < 58
    assert {info.unit for info in snapshot.employees.values()} == {"Bidang Politik Dalam Negeri"}
    assert snapshot.roster.secretary == SECRETARY
    assert list(snap(seeded, catalog, key=STAFF).employees) == [STAFF]


@pytest.mark.parametrize(
    ("first", "correction", "expected"),
    [
        (datetime(2025, 2, 20, tzinfo=WITA), datetime(2025, 3, 2, tzinfo=WITA), Status.LATE),
        (datetime(2025, 3, 2, tzinfo=WITA), datetime(2025, 2, 20, tzinfo=WITA), Status.ON_TIME),
    ],
    ids=["correction-later", "correction-earlier"],
)
def test_newest_row_wins_whatever_its_submitted_at(
    seeded: Database,
    catalog: Catalog,
    schedule: Schedule,
    first: datetime,
    correction: datetime,
    expected: Status,
) -> None:
    submit(seeded, catalog, STAFF, "SKP", "2025", first)
    submit(seeded, catalog, STAFF, "SKP", "2025", correction)
    mine = [s for s in snap(seeded, catalog).submissions if s.employee == STAFF]
    assert [(s.rule, s.period, s.submitted_at) for s in mine] == [("SKP", "2025", correction)]
    assert status_of(matrix(seeded, catalog, schedule), STAFF, "SKP", "2025")[0] is expected


def test_snapshot_since_year_drops_older_periods(seeded: Database, catalog: Catalog) -> None:
    submit(seeded, catalog, STAFF, "SKP", "2024", datetime(2024, 2, 1, tzinfo=WITA))
    submit(seeded, catalog, STAFF, "SKP", "2025", datetime(2025, 2, 1, tzinfo=WITA))
    assert {s.period for s in snap(seeded, catalog).submissions} == {"2024", "2025"}
    assert {s.period for s in snap(seeded, catalog, since_year=2025).submissions} == {"2025"}


# --------------------------------------------------------------------------- status


def test_status_at_3_march_2025(seeded: Database, catalog: Catalog, schedule: Schedule) -> None:
    submit(seeded, catalog, STAFF, "SKP", "2025", datetime(2025, 2, 20, 10, tzinfo=WITA))
    result = matrix(seeded, catalog, schedule)
    assert status_of(result, STAFF, "SKP", "2025") == (Status.ON_TIME, None)
    assert result.cells[STAFF]["SKP"].status is Status.ON_TIME
    assert result.achievement[STAFF]["SKP"] == 100.0
    assert status_of(result, KASUBBAG, "SKP", "2025") == (Status.OVERDUE, 3)
    pk = {key: cells["PK"] for key, cells in result.cells.items()}
    assert len(pk) == 58
    assert {(c.period, c.status, c.days_late) for c in pk.values()} == {
        ("2025", Status.OVERDUE, 42)
    }
    assert result.achievement[STAFF]["PK"] == 0.0
    assert result.overall[STAFF] == 50.0  # SKP on time, PK overdue; SPT not due yet


# e-Pantau is due on 10 February (the deadline: midnight after it, WITA); read on 3 March.
@pytest.mark.parametrize(
    ("verified_at", "expected"),
    [
        (None, (Status.OVERDUE, 21)),  # handed in, never verified: overdue since the deadline
        ("2025-02-07 14:00", (Status.ON_TIME, None)),  # verified as handed in
        ("2025-02-10 23:59", (Status.ON_TIME, None)),  # verified on the due day
        ("2025-02-11 00:00", (Status.LATE, 1)),  # the deadline itself is too late
        ("2025-02-14 10:00", (Status.LATE, 4)),  # late by the days of the verification
    ],
)
def test_epantau_is_on_time_only_when_verified_by_the_deadline(
    seeded: Database,
    catalog: Catalog,
    schedule: Schedule,
    verified_at: str | None,
    expected: tuple[Status, int | None],
) -> None:
    at = datetime(2025, 2, 7, 14, tzinfo=WITA)
    when = None if verified_at is None else datetime.fromisoformat(verified_at).replace(tzinfo=WITA)
    submit(seeded, catalog, KABID, "EPANTAU", "2025-02", at, when is not None, when)
    (sub,) = snap(seeded, catalog).submissions
    assert (sub.verified, sub.verified_at) == (when is not None, when)
    result = matrix(seeded, catalog, schedule)
    # a unit rule: one record speaks for every carrier of the bidang, and for no other unit
    assert status_of(result, KABID, "EPANTAU", "2025-02") == expected
    assert status_of(result, ANALIS, "EPANTAU", "2025-02") == expected
    assert status_of(result, SECRETARY, "EPANTAU", "2025-02") == (Status.OVERDUE, 21)
    assert status_of(result, SECRETARY, "EPANTAU", "2025-01") == (Status.OVERDUE, 52)


# --------------------------------------------------------------------------- writes


def test_find_employee_accepts_nip_with_spaces(seeded: Database) -> None:
    with seeded.read() as session:
        assert records.find_employee(session, "19710515 200012 1 003").key == SECRETARY
        assert records.find_employee(session, "19710515.200012.1.003").key == SECRETARY


def test_unknown_nip_names_the_closest(seeded: Database) -> None:
    with seeded.read() as session, pytest.raises(records.RecordError) as caught:
        records.find_employee(session, "197105152000121004")
    assert caught.value.message == "no_employee"
    assert SECRETARY in caught.value.params["hints"]
    assert "did you mean" in str(caught.value)


def test_far_unknown_nip_points_to_the_roster(seeded: Database) -> None:
    with seeded.read() as session, pytest.raises(records.RecordError) as caught:
        records.find_employee(session, "123")
    assert caught.value.params["hints"] == ""
    assert "tenggat roster list" in str(caught.value)


def test_find_employee_by_provisional_key(seeded: Database, seed: IkiImport) -> None:
    key = next(p.key for p in seed.employees if p.key.startswith("TMP-"))
    with seeded.read() as session:  # lower-case hex, typed in any case (fixed in 46de75e)
        assert records.find_employee(session, key).key == key
        assert records.find_employee(session, f" {key.upper()} ").key == key


def test_set_superior_refuses_a_loop(seeded: Database) -> None:
    before = dump(seeded)
    with pytest.raises(records.RecordError) as caught, seeded.write() as session:
        kasubbag = records.find_employee(session, KASUBBAG)
        records.set_superior(kasubbag, records.find_employee(session, STAFF))
    assert caught.value.message == "superior_loop"
    assert dump(seeded) == before
    with pytest.raises(records.RecordError), seeded.write() as session:
        staff = records.find_employee(session, STAFF)
        records.set_superior(staff, staff)


def test_set_superior_sees_changes_of_the_same_session(seeded: Database) -> None:
    with pytest.raises(records.RecordError), seeded.write() as session:
        first, second = (records.find_employee(session, k) for k in ("198404232010011013", STAFF))
        records.set_superior(first, second)
        records.set_superior(second, first)


def test_superior_loop_message_names_both_people(seeded: Database) -> None:
    """It named the employee twice ("X already reports to X") until 94a2666."""
    with pytest.raises(records.RecordError) as caught, seeded.write() as session:
        kasubbag = records.find_employee(session, KASUBBAG)
        records.set_superior(kasubbag, records.find_employee(session, STAFF))
    assert caught.value.params == {"superior": STAFF, "employee": KASUBBAG}


@pytest.mark.parametrize(
    ("code", "period", "message"),
    [
        ("LHKPM", "2025", "unknown_rule"),
        ("EPANTAU", "2025", "bad_period"),
        ("EPANTAU", "2025-13", "bad_period"),
        ("SKM_RTL", "2025-S3", "bad_period"),
        ("SKP", "2025\n", "bad_period"),  # was stored, never matching "2025" (fixed in 94a2666)
        ("SKP", " 2025", "bad_period"),
        ("EPANTAU", "2025-2", "bad_period"),
    ],
)
def test_check_rule_period_refuses(catalog: Catalog, code: str, period: str, message: str) -> None:
    with pytest.raises(records.RecordError) as caught:
        records.check_rule_period(catalog, code, period)
    assert caught.value.message == message


def test_check_rule_period_canonicalises_the_code(catalog: Catalog) -> None:
    assert records.check_rule_period(catalog, "epantau", "2025-02") == "EPANTAU"


def test_set_event_corrects_in_place(seeded: Database, catalog: Catalog) -> None:
    for day in (date(2024, 12, 19), date(2024, 12, 20)):
        with seeded.write() as session:
            records.set_event(session, catalog, "apbd_adopted", "2025", day, NOW, "t")
    assert snap(seeded, catalog).events == [Event("APBD_ADOPTED", "2025", date(2024, 12, 20))]
    for code, key, day, message in [
        ("APBD", "2025", date(2024, 12, 20), "unknown_event"),
        ("APBD_ADOPTED", "25", date(2024, 12, 20), "bad_event_key"),
        ("APBD_ADOPTED", "2025", date(9999, 12, 31), "far_event_day"),  # every anchor overflows
        ("APBD_ADOPTED", "2025", date(2052, 12, 20), "far_event_day"),
    ]:
        with pytest.raises(records.RecordError) as caught, seeded.write() as session:
            records.set_event(session, catalog, code, key, day, NOW, "t")
        assert caught.value.message == message
    assert snap(seeded, catalog).events == [Event("APBD_ADOPTED", "2025", date(2024, 12, 20))]


@pytest.mark.parametrize("year", [1, 1899, 3000, 9999])
def test_a_submission_in_a_year_that_is_a_typo_is_refused(schedule: Schedule, year: int) -> None:
    """Not a ValueError from the dates around it (the periods of year 0, year 10000)."""
    when = datetime(year, 12, 31, 12, tzinfo=WITA)
    with pytest.raises(records.RecordError) as caught:
        records.check_submission_period(schedule, "SKP", "2025", when)
    assert caught.value.message == "far_moment" and "1900" in caught.value.text("en")
