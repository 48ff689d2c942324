"""``status --json`` is written from lean records (``records.carriers``, ``status.matrix_json``)
rather than through the matrix (``records.snapshot``, ``status.build``, ``json_chunks``).
Both must give the same bytes, on SQLite and PostgreSQL, for any roster, moment and filter."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_properties import FEW, setup

from rules.calendar import WITA, LegalCalendar
from rules.catalog import Catalog, Source
from rules.evaluate import Roster, Submission
from rules.schedule import Event, Schedule
from scheduler.reports.status import build, json_chunks, matrix_json
from scheduler.store import models, records
from scheduler.store.db import Database
from scheduler.store.records import Carriers, EmployeeInfo, Snapshot

SEC, HEAD, NAMESAKE, LATE, PLAIN, ALIKE, ODD, IDLE, GONE, NEW = (
    f"1990010120200110{n:02d}" for n in range(1, 11)
)
RECORDED = datetime(2025, 3, 1, 9, tzinfo=WITA)


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=WITA)


def fill(database: Database) -> None:
    """A small agency that exercises what a cell can depend on: units or none, namesakes,
    names to escape, no assignments, an unknown rule, starts (none, 2025, mid-year, 2026),
    exemptions, corrections, late and unverified submissions, an inactive submitter,
    agency submissions by anyone or by the agency, old periods, carriers alike."""
    with database.write() as session:
        sekretariat, bidang = models.Unit(name="Sekretariat"), models.Unit(name='Bidang "Ä"')
        session.add_all([sekretariat, bidang, models.Unit(name="Bidang Kosong")])
        session.flush()

        def person(key: str, name: str, unit: models.Unit | None, boss: Any, **more: Any) -> Any:
            row = models.Employee(
                key=key,
                nip=key,
                name=name,
                unit_id=unit.id if unit else None,
                superior_id=boss.id if boss else None,
                updated_at=RECORDED,
                **more,
            )
            session.add(row)
            session.flush()
            return row

        sec = person(SEC, "SEKRETARIS", sekretariat, None, roles="secretary")
        head = person(HEAD, "KEPALA", bidang, sec, roles="unit_head")
        namesake = person(NAMESAKE, "KEPALA", bidang, sec)  # same unit, same name
        late = person(LATE, "STAF TERLAMBAT", bidang, head)
        plain = person(PLAIN, "STAF", bidang, head)
        alike = person(ALIKE, "STAF", sekretariat, sec)
        odd = person(ODD, 'O\'Brien "Jr" \\ Ñandú\t☃', None, None)
        person(IDLE, "TANPA KEWAJIBAN", sekretariat, sec)
        gone = person(GONE, "PENSIUN", sekretariat, sec, active=False)
        new = person(NEW, "BARU", sekretariat, namesake)

        since = date(2025, 1, 1)
        carried = {
            sec: [(code, since) for code in ("SKP", "EPANTAU", "LKSKPD", "SIRUP", "SHS", "MR")],
            head: [("SKP", since), ("SPT", since), ("PK", since), ("MR", since)],
            namesake: [("SKP", since), ("SPT", date(2025, 7, 1)), ("SERAPAN", since)],
            late: [("SKP", since), ("SPT", since), ("PK", since)],
            plain: [("SKP", since), ("SPT", since), ("PK", since)],
            alike: [("SKP", since), ("SPT", since), ("PK", since)],
            odd: [("SKP", None), ("OLD_RULE", since), ("LHKPN", None)],
            gone: [("SKP", since), ("SIRUP", since)],
            new: [("SKP", date(2026, 1, 1)), ("SPT", since)],
        }
        for who, rules in carried.items():
            for code, start in rules:
                session.add(
                    models.Assignment(
                        employee_id=who.id, rule_code=code, origin="iki", starts_on=start
                    )
                )
        for who, code, period in ((namesake, "SKP", "2025"), (odd, "LHKPN", "2030")):
            session.add(
                models.Exemption(
                    employee_id=who.id,
                    rule_code=code,
                    period=period,
                    reason="Cuti",
                    recorded_by="t",
                    recorded_at=RECORDED,
                )
            )
        submitted = [
            (sec, "SKP", "2025", at("2025-02-10"), True),
            (sec, "EPANTAU", "2025-01", at("2025-01-09"), True),
            (sec, "EPANTAU", "2025-02", at("2025-02-07"), False),  # awaits verification
            (head, "SKP", "2025", at("2025-03-01", 8), True),  # late
            (head, "SPT", "2025", at("2025-02-20", 23), True),
            (late, "SKP", "2025", at("2025-02-01"), True),
            (late, "SKP", "2025", at("2025-03-02"), False),  # the correction counts
            (odd, "SKP", "2024", at("2024-02-28", 23), True),
            (odd, "SKP", "2023", at("2023-02-01"), True),  # older than what is read
            (gone, "SKP", "2025", at("2025-02-02"), True),
            (gone, "SIRUP", "2025", at("2025-01-15"), True),  # serves every carrier
            (None, "SHS", "2026", at("2025-01-20"), True),  # the agency's, for budget year 2026
        ]
        for who, code, period, when, verified in submitted:
            session.add(
                models.Submission(
                    employee_id=who.id if who else None,
                    rule_code=code,
                    period=period,
                    submitted_at=when,
                    source="cli",
                    recorded_by="t",
                    recorded_at=RECORDED,
                    verified_at=RECORDED if verified else None,
                )
            )
        session.add(
            models.Event(
                code="APBD_ADOPTED",
                key="2025",
                day=date(2024, 12, 20),
                recorded_by="t",
                recorded_at=RECORDED,
            )
        )


def both(database: Database, catalog: Catalog, now: datetime, **narrow: Any) -> tuple[bytes, bytes]:
    """``status --json`` both ways: through the matrix, and from lean records."""
    schedule = Schedule(catalog, LegalCalendar())
    with database.read() as session:
        snap = records.snapshot(session, catalog, since_year=now.year - 1, **narrow)
        lean = records.carriers(session, catalog, since_year=now.year - 1, **narrow)
    full = b"".join(json_chunks(build(schedule, snap, now)))
    return full, b"".join(matrix_json(schedule, lean, now))


MOMENTS = [
    datetime(2025, 1, 10, 12, tzinfo=WITA),
    datetime(2025, 3, 3, 23, 59, 59, tzinfo=WITA),
    datetime(2025, 12, 31, 12, tzinfo=WITA),
    datetime(2026, 1, 5, 8, tzinfo=WITA),  # last year's debts still show
]
NARROWED: list[dict[str, Any]] = [
    {},
    {"unit": 'Bidang "Ä"'},
    {"unit": "Bidang Kosong"},
    {"key": LATE},
    {"key": ODD},
]
VARIANT = "[rules.SKP]\nverification = true\n[rules.MR]\nenabled = false\n"


@pytest.mark.parametrize("variant", [False, True], ids=["shipped", "skp-verified-mr-off"])
def test_lean_status_json_is_the_matrix_byte_for_byte(
    database: Database, make_catalog: Callable[..., Catalog], variant: bool
) -> None:
    fill(database)
    catalog = make_catalog(Source("v.toml", VARIANT)) if variant else make_catalog()
    for now in MOMENTS:
        for narrow in NARROWED:
            full, lean = both(database, catalog, now, **narrow)
            assert lean == full, (now, narrow)


def test_the_agency_exercises_every_kind_of_cell(
    database: Database, make_catalog: Callable[..., Catalog]
) -> None:
    """The roster above is varied enough to matter: the cases it was built for show."""
    fill(database)
    shipped = json.loads(both(database, make_catalog(), MOMENTS[1])[1])
    people = {p["key"]: p for p in shipped["employees"]}
    order = [p["key"] for p in shipped["employees"]]  # by unit, name, then id
    assert [key for key in order if key != ODD] == [
        HEAD,
        NAMESAKE,
        PLAIN,
        LATE,
        NEW,
        SEC,
        ALIKE,
        IDLE,
    ]
    assert order.index(ODD) in (0, len(order) - 1)  # without a unit: where NULL sorts
    cell = {key: {code: c["status"] for code, c in p["rules"].items()} for key, p in people.items()}
    assert cell[HEAD]["SKP"] == "late" and people[HEAD]["rules"]["SKP"]["days_late"] == 1
    assert cell[LATE]["SKP"] == "late"  # the newest row, not the earlier on-time one
    assert cell[NAMESAKE]["SKP"] == "exempt"
    # handed in on 7 February, not verified by the 10th: overdue, the verifier's to act on
    assert cell[SEC]["EPANTAU"] == "overdue" and cell[SEC]["SIRUP"] == "on_time"
    assert cell[SEC]["SHS"] == "on_time"  # recorded for the agency
    assert "OLD_RULE" not in cell[ODD] and people[IDLE]["rules"] == {}
    assert people[IDLE]["achievement"] == {"overall": None, "rules": {}}
    assert people[ODD]["unit"] == "" and people[ODD]["superior"] is None
    assert cell[PLAIN] == cell[ALIKE] == {"PK": "overdue", "SKP": "overdue", "SPT": "upcoming"}
    verified = json.loads(both(database, make_catalog(Source("v.toml", VARIANT)), MOMENTS[1])[1])
    mine = {p["key"]: p["rules"] for p in verified["employees"]}
    # SKP made to need verification: unverified past its batas waktu, overdue (the verifier's)
    assert mine[LATE]["SKP"]["status"] == "overdue" and "MR" not in mine[SEC]


# --- any roster, in memory ---------------------------------------------------------------


def in_memory(
    roster: Any, submissions: list[Submission], events: tuple[Event, ...]
) -> tuple[Snapshot, Carriers]:
    """The same generated records as ``snapshot`` and ``carriers`` would read them: everyone
    in one unit, which each submission carries as its submitter's."""
    people = {key: person._replace(unit="Unit") for key, person in roster.people.items()}
    roster = Roster(people, roster.assignments, roster.secretary)
    submissions = [s._replace(unit="Unit" if s.employee else None) for s in submissions]
    keys = list(roster.people)
    employees = {
        key: EmployeeInfo(
            key, key, f"Pegawai {key}", "", "Unit", person.superior, frozenset(), None, None, ""
        )
        for key, person in roster.people.items()
    }
    snap = Snapshot(roster, list(submissions), list(events), employees)
    rows = [
        (i, key, key, f"Pegawai {key}", "Unit", roster.people[key].superior)
        for i, key in enumerate(keys)
    ]
    carried: dict[int, list[Any]] = {}
    for item in roster.assignments:
        carried.setdefault(keys.index(item.employee), []).append(
            (item.rule, item.exempt, item.since)
        )
    lean = Carriers(
        rows, {i: tuple(c) for i, c in carried.items()}, list(submissions), list(events)
    )
    return snap, lean


@FEW
@given(data=st.data())
def test_lean_status_json_is_the_matrix_for_any_roster(
    schedule: Schedule, catalog: Catalog, data: st.DataObject
) -> None:
    scenario, subs = setup(schedule, catalog, data)
    subs = [s._replace(submitted_at=s.submitted_at.astimezone(UTC)) for s in subs]  # as read
    snap, lean = in_memory(scenario.roster, subs, scenario.events)
    full = b"".join(json_chunks(build(schedule, snap, scenario.now)))
    assert b"".join(matrix_json(schedule, lean, scenario.now)) == full
