"""rules.evaluate: occurrence statuses over time, submissions, scope, exemptions, the IKI tally."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from rules.calendar import WITA, LegalCalendar
from rules.catalog import Source
from rules.evaluate import (
    Achievement,
    Assignment,
    Evaluation,
    OccurrenceStatus,
    Person,
    Roster,
    Status,
    Submission,
    evaluate,
)
from rules.schedule import Event, Schedule

PEOPLE = {
    "S": Person("S"),
    "K": Person("K", superior="S"),
    "A": Person("A", superior="K"),
    "B": Person("B", superior="K"),
}
SKP_2025_DUE = date(2025, 2, 28)  # a Friday
APBD_2025 = Event("APBD_ADOPTED", "2025", date(2024, 12, 20))  # -> PK 2025 due 2025-01-20


def wita(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=WITA)


def roster(*assignments: Assignment) -> Roster:
    return Roster(PEOPLE, list(assignments), secretary="S")


def run(
    schedule: Schedule,
    assignments: Iterable[Assignment],
    now: datetime,
    submissions: Iterable[Submission] = (),
    events: Iterable[Event] = (),
) -> Evaluation:
    return evaluate(schedule, roster(*assignments), list(submissions), list(events), now)


def status_of(evaluation: Evaluation, employee: str, rule: str, period: str) -> OccurrenceStatus:
    found = [
        s for s in evaluation.statuses if (s.employee, s.rule, s.period) == (employee, rule, period)
    ]
    assert len(found) == 1, f"{employee} {rule} {period}: {found}"
    return found[0]


def achievement(evaluation: Evaluation, employee: str, rule: str) -> Achievement | None:
    found = [a for a in evaluation.achievements if (a.employee, a.rule) == (employee, rule)]
    assert len(found) <= 1
    return found[0] if found else None


# --- statuses over time ------------------------------------------------------------------


def _status_cases(calendar: LegalCalendar) -> list[tuple[datetime, Status, int | None]]:
    h7 = calendar.working_day_offset(SKP_2025_DUE, -7)
    before = h7 - timedelta(days=1)
    return [
        (wita(2025, 1, 6), Status.UPCOMING, None),
        (wita(before.year, before.month, before.day, 23, 59), Status.UPCOMING, None),
        (wita(h7.year, h7.month, h7.day, 0, 0), Status.DUE_SOON, None),
        (wita(2025, 2, 27, 23, 59), Status.DUE_SOON, None),
        (wita(2025, 2, 28, 0, 0), Status.DUE_TODAY, None),
        (wita(2025, 2, 28, 23, 59), Status.DUE_TODAY, None),
        (wita(2025, 3, 1, 0, 0), Status.OVERDUE, 1),
        (wita(2025, 3, 3, 9, 0), Status.OVERDUE, 3),
        # now given in UTC: 16:30Z on 28 Feb is already 1 March 00:30 in WITA
        (datetime(2025, 2, 28, 15, 30, tzinfo=UTC), Status.DUE_TODAY, None),
        (datetime(2025, 2, 28, 16, 30, tzinfo=UTC), Status.OVERDUE, 1),
    ]


def test_skp_status_moves_through_time(schedule: Schedule, calendar: LegalCalendar) -> None:
    h7 = calendar.working_day_offset(SKP_2025_DUE, -7)
    assert h7 < SKP_2025_DUE - timedelta(days=7)  # working days, not calendar days
    for now, expected, days_late in _status_cases(calendar):
        item = status_of(run(schedule, [Assignment("A", "SKP")], now), "A", "SKP", "2025")
        assert (item.status, item.days_late) == (expected, days_late), now
        assert item.occurrence.due == SKP_2025_DUE
        assert item.status.is_open


# --- submissions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("submitted_at", "expected", "days_late"),
    [
        (wita(2025, 1, 10), Status.ON_TIME, None),
        (wita(2025, 2, 28, 23, 59), Status.ON_TIME, None),
        (wita(2025, 3, 1, 0, 0), Status.LATE, 1),
        (datetime(2025, 2, 28, 15, 30, tzinfo=UTC), Status.ON_TIME, None),  # 23:30 WITA
        (datetime(2025, 2, 28, 16, 30, tzinfo=UTC), Status.LATE, 1),  # 1 Mar 00:30 WITA
        (wita(2025, 3, 5, 10), Status.LATE, 5),
    ],
)
def test_submission_on_time_iff_before_midnight_wita(
    schedule: Schedule, submitted_at: datetime, expected: Status, days_late: int | None
) -> None:
    subs = [Submission("SKP", "2025", submitted_at, "A")]
    ev = run(schedule, [Assignment("A", "SKP")], wita(2025, 3, 15), subs)
    item = status_of(ev, "A", "SKP", "2025")
    assert (item.status, item.days_late, item.submitted_at) == (expected, days_late, submitted_at)
    assert not item.status.is_open


def test_earliest_of_several_submissions_counts(schedule: Schedule) -> None:
    times = [wita(2025, 3, 5), wita(2025, 2, 20), wita(2025, 3, 1)]
    subs = [Submission("SKP", "2025", t, "A") for t in times]
    ev = run(schedule, [Assignment("A", "SKP")], wita(2025, 3, 15), subs)
    item = status_of(ev, "A", "SKP", "2025")
    assert (item.status, item.submitted_at) == (Status.ON_TIME, wita(2025, 2, 20))
    assert achievement(ev, "A", "SKP") == Achievement("A", "SKP", 2025, 1, 1)


# --- scope -------------------------------------------------------------------------------

CARRIERS = [Assignment(e, rule) for e in ("A", "B") for rule in ("P3DN", "MR")]


@pytest.mark.parametrize("by", [None, "A", "S"])  # the agency, a carrier, a non-carrier
def test_agency_submission_serves_every_carrier(schedule: Schedule, by: str | None) -> None:
    subs = [
        Submission("P3DN", "2025-02", wita(2025, 2, 7), by),
        Submission("MR", "2025-Q1", wita(2025, 3, 31, 20), by),
    ]
    ev = run(schedule, CARRIERS, wita(2025, 4, 2), subs)
    for employee in ("A", "B"):
        assert status_of(ev, employee, "P3DN", "2025-02").status is Status.ON_TIME
        assert status_of(ev, employee, "MR", "2025-Q1").status is Status.ON_TIME
        assert status_of(ev, employee, "P3DN", "2025-03").status is Status.OVERDUE


# e-Pantau is one per unit: A and B in Bidang I, C in Bidang II, D and E without a unit.
UNITS = {"A": "Bidang I", "B": "Bidang I", "C": "Bidang II", "D": None, "E": None}


@pytest.mark.parametrize(
    ("by", "served"),
    [
        ("A", {"A", "B"}),  # a carrier serves their unit
        ("B", {"A", "B"}),
        ("X", {"A", "B"}),  # so does a colleague who does not carry it
        ("C", {"C"}),  # another unit's serves only that unit
        ("D", {"D"}),  # without a unit: their own alone, never another's
        (None, set()),  # recorded for the agency: no unit's
    ],
)
def test_unit_submission_serves_the_carriers_of_its_unit(
    schedule: Schedule, by: str | None, served: set[str]
) -> None:
    people = {key: Person(key, None, unit) for key, unit in {**UNITS, "X": "Bidang I"}.items()}
    carriers = [Assignment(key, "EPANTAU") for key in UNITS]
    unit = people[by].unit if by else None
    subs = [Submission("EPANTAU", "2025-02", wita(2025, 2, 7), by, unit=unit)]
    ev = evaluate(schedule, Roster(people, carriers), subs, [], wita(2025, 3, 3))
    done = {s.employee for s in ev.statuses if s.period == "2025-02" and s.status is Status.ON_TIME}
    assert done == served
    assert {s.employee for s in ev.statuses if s.period == "2025-01"} == set(UNITS)
    # the headlines (the matrix's cells, shared where nothing sets a carrier apart) agree
    heads = evaluate(schedule, Roster(people, carriers), subs, [], wita(2025, 3, 3), detail=False)
    for found in (ev, heads):
        achieved = {a.employee: (a.on_time, a.due) for a in found.achievements}
        assert achieved == {key: (int(key in served), 2) for key in UNITS}


def test_unit_submission_awaiting_verification_is_pending_for_its_unit(
    schedule: Schedule,
) -> None:
    people = {key: Person(key, None, unit) for key, unit in UNITS.items()}
    carriers = [Assignment(key, "EPANTAU") for key in UNITS]
    subs = [Submission("EPANTAU", "2025-03", wita(2025, 3, 5), "A", False, unit="Bidang I")]
    ev = evaluate(schedule, Roster(people, carriers), subs, [], wita(2025, 3, 7))
    pending = {s.employee for s in ev.statuses if s.status is Status.PENDING}
    assert pending == {"A", "B"}
    later = evaluate(schedule, Roster(people, carriers), subs, [], wita(2025, 3, 12))
    waiting = {
        s.employee for s in later.statuses if s.period == "2025-03" and s.awaits_verification
    }
    assert waiting == {"A", "B"}  # handed in, not verified by the 10th: the verifier's to act


def test_personal_submission_serves_only_its_employee(schedule: Schedule) -> None:
    subs = [
        Submission("SKP", "2025", wita(2025, 2, 20), "A"),
        Submission("SKP", "2025", wita(2025, 2, 20), None),  # no employee: not B's
    ]
    ev = run(schedule, [Assignment("A", "SKP"), Assignment("B", "SKP")], wita(2025, 3, 3), subs)
    assert status_of(ev, "A", "SKP", "2025").status is Status.ON_TIME
    b = status_of(ev, "B", "SKP", "2025")
    assert (b.status, b.days_late) == (Status.OVERDUE, 3)
    assert achievement(ev, "B", "SKP") == Achievement("B", "SKP", 2025, 0, 1)


# --- exemption and anchored rules --------------------------------------------------------


def test_exempt_period_is_exempt_and_not_counted(schedule: Schedule) -> None:
    assignments = [Assignment("A", "SKP", exempt=frozenset({"2025"})), Assignment("B", "SKP")]
    ev = run(schedule, assignments, wita(2025, 3, 15))
    item = status_of(ev, "A", "SKP", "2025")
    assert (item.status, item.status.is_open) == (Status.EXEMPT, False)
    assert achievement(ev, "A", "SKP") is None
    assert achievement(ev, "B", "SKP") == Achievement("B", "SKP", 2025, 0, 1)


def test_pk_without_apbd_event_waits_and_is_not_counted(schedule: Schedule) -> None:
    ev = run(schedule, [Assignment("A", "PK")], wita(2025, 3, 15))
    pk = [s for s in ev.statuses if s.rule == "PK"]
    assert "2025" in {s.period for s in pk}
    assert all(s.status is Status.WAITING and not s.status.is_open for s in pk)
    assert all(s.occurrence.waiting_for == "APBD_ADOPTED" for s in pk)
    assert achievement(ev, "A", "PK") is None


def test_pk_with_apbd_event_has_normal_statuses(
    schedule: Schedule, calendar: LegalCalendar
) -> None:
    due = date(2025, 1, 20)
    first_step = calendar.working_day_offset(due, -7)
    cases = [
        (wita(first_step.year, first_step.month, first_step.day), [], Status.DUE_SOON),
        (wita(2025, 1, 20), [], Status.DUE_TODAY),
        (wita(2025, 3, 15), [], Status.OVERDUE),
        (wita(2025, 3, 15), [Submission("PK", "2025", wita(2025, 1, 18), "A")], Status.ON_TIME),
    ]
    for now, subs, expected in cases:
        ev = run(schedule, [Assignment("A", "PK")], now, subs, [APBD_2025])
        item = status_of(ev, "A", "PK", "2025")
        assert (item.occurrence.due, item.status) == (due, expected), now
    ev = run(schedule, [Assignment("A", "PK")], wita(2025, 3, 15), events=[APBD_2025])
    assert achievement(ev, "A", "PK") == Achievement("A", "PK", 2025, 0, 1)


# --- IKI achievement ---------------------------------------------------------------------

EPANTAU_SUBS = [
    Submission("EPANTAU", "2025-01", wita(2025, 1, 9), "A"),  # on time
    Submission("EPANTAU", "2025-02", wita(2025, 2, 12), "A"),  # 2 days late
    Submission("EPANTAU", "2025-04", wita(2025, 4, 1), "A"),  # early, not yet due
]  # 2025-03 (due Mon 10 Mar) is missing


def test_achievement_counts_occurrences_due_so_far(schedule: Schedule) -> None:
    ev = run(schedule, [Assignment("A", "EPANTAU")], wita(2025, 3, 15), EPANTAU_SUBS)
    got = [
        (s.period, s.status, s.days_late) for s in ev.statuses if "2025-01" <= s.period <= "2025-04"
    ]
    assert got == [
        ("2025-01", Status.ON_TIME, None),
        ("2025-02", Status.LATE, 2),
        ("2025-03", Status.OVERDUE, 5),
        ("2025-04", Status.ON_TIME, None),
    ]
    ach = achievement(ev, "A", "EPANTAU")
    assert ach is not None
    assert (ach.year, ach.on_time, ach.due) == (2025, 1, 3)
    assert ach.percent == pytest.approx(100 / 3)


def test_achievement_excludes_an_occurrence_until_its_day_ends(schedule: Schedule) -> None:
    ev = run(schedule, [Assignment("A", "EPANTAU")], wita(2025, 3, 10, 23, 59), EPANTAU_SUBS)
    assert achievement(ev, "A", "EPANTAU") == Achievement("A", "EPANTAU", 2025, 1, 2)


def test_achievement_is_for_the_year_of_now_across_new_year(schedule: Schedule) -> None:
    assignments = [Assignment("A", "EPANTAU")]
    early = run(schedule, assignments, wita(2026, 1, 5))
    december = status_of(early, "A", "EPANTAU", "2025-12")  # still in view
    assert (december.status, december.days_late) == (Status.OVERDUE, 26)
    assert early.achievements == []  # nothing of 2026 is due yet; 2025 is not counted
    later = run(schedule, assignments, wita(2026, 1, 15))
    assert status_of(later, "A", "EPANTAU", "2025-12").status is Status.OVERDUE
    assert later.achievements == [Achievement("A", "EPANTAU", 2026, 0, 1)]


def test_an_occurrence_due_on_31_december_counts_for_its_year(schedule: Schedule) -> None:
    subs = [
        Submission("MR", f"2025-Q{q}", wita(2025, 3 * q, 20), "A") for q in range(1, 5)
    ]  # MR 2025-Q4 is due Wednesday 31 December 2025, submitted on 20 December
    roster_ = roster(Assignment("A", "MR"))
    last_second = datetime(2025, 12, 31, 23, 59, 59, tzinfo=WITA)
    before = evaluate(schedule, roster_, subs, [], last_second)
    assert achievement(before, "A", "MR") == Achievement("A", "MR", 2025, 3, 3)  # Q4 not due yet
    final = evaluate(schedule, roster_, subs, [], wita(2026, 1, 1, 0, 0), year=2025)
    assert achievement(final, "A", "MR") == Achievement("A", "MR", 2025, 4, 4)


def test_achievement_does_not_depend_on_the_window(schedule: Schedule) -> None:
    roster_ = roster(Assignment("A", "EPANTAU"))
    now = wita(2025, 3, 15)
    full = evaluate(schedule, roster_, EPANTAU_SUBS, [], now)
    march = evaluate(
        schedule, roster_, EPANTAU_SUBS, [], now, (date(2025, 3, 1), date(2025, 3, 31))
    )
    assert [s.period for s in march.statuses] == ["2025-03"]
    assert march.achievements == full.achievements


# --- rules that are not scheduled --------------------------------------------------------


def test_unknown_or_unscheduled_rule_is_ignored(schedule: Schedule) -> None:
    assignments = [Assignment("A", "NOPE"), Assignment("A", "RKBM"), Assignment("A", "SKP")]
    ev = run(
        schedule, assignments, wita(2025, 3, 3), [Submission("NOPE", "2025", wita(2025, 1, 1), "A")]
    )
    assert {s.rule for s in ev.statuses} == {"SKP"}
    assert {a.rule for a in ev.achievements} == {"SKP"}


def test_disabled_rule_yields_no_statuses(
    schedule: Schedule, calendar: LegalCalendar, make_catalog
) -> None:
    disabled = Schedule(make_catalog(Source("c.toml", "[rules.MR]\nenabled = false\n")), calendar)
    assignments = [Assignment("A", "MR"), Assignment("A", "SKP")]
    now = wita(2025, 7, 15)
    assert {s.rule for s in run(schedule, assignments, now).statuses} == {"MR", "SKP"}
    ev = run(disabled, assignments, now)
    assert {s.rule for s in ev.statuses} == {"SKP"}
    assert {a.rule for a in ev.achievements} == {"SKP"}


def test_headlines_of_agency_carriers_differ_by_their_start(schedule: Schedule) -> None:
    """Carriers of one agency rule share its outcomes, but not what came before they
    carried it: a newcomer since July owes MR from Q3 on, the others from Q1."""
    since_july = date(2025, 7, 1)
    roster_ = roster(
        Assignment("A", "MR"), Assignment("B", "MR", since=since_july), Assignment("K", "MR")
    )
    heads = evaluate(schedule, roster_, [], [], wita(2025, 12, 15), detail=False)
    cell = {h.employee: (h.period, h.status) for h in heads.headlines}
    assert cell == {
        "A": ("2025-Q1", Status.OVERDUE),
        "K": ("2025-Q1", Status.OVERDUE),
        "B": ("2025-Q3", Status.OVERDUE),
    }
    tally = {a.employee: (a.on_time, a.due) for a in heads.achievements}
    assert tally == {"A": (0, 3), "K": (0, 3), "B": (0, 1)}


# --- purity ------------------------------------------------------------------------------


class _Watched(list):  # type: ignore[type-arg]
    """A list that notes, each time it is read, whether the cyclic garbage collector runs."""

    def __init__(self, items: Iterable[object] = ()) -> None:
        super().__init__(items)
        self.collector: list[bool] = []

    def __iter__(self) -> Iterator[object]:
        self.collector.append(gc.isenabled())
        return super().__iter__()


def test_the_engine_leaves_the_garbage_collector_to_its_callers(schedule: Schedule) -> None:
    """Pausing the collector is a choice for the whole process: the application makes it
    around the large work it knows of (scheduler/memory.py); the pure engine never does."""
    from rules.plan import plan

    people = roster(Assignment("A", "SKP"))
    submissions = _Watched([Submission("SKP", "2024", wita(2025, 2, 1), "A")])
    assert gc.isenabled()
    evaluation = evaluate(schedule, people, submissions, [], wita(2025, 3, 3))  # type: ignore[arg-type]
    statuses = _Watched(evaluation.statuses)
    plan(schedule, people, Evaluation(evaluation.now, statuses))
    assert submissions.collector == [True]
    assert statuses.collector == [True]
    sources = Path(__file__).resolve().parents[1].joinpath("rules").glob("*.py")
    assert not [p.name for p in sources if re.search(r"^import gc|\bgc\.", p.read_text(), re.M)]


# --- measured indicators (SERAPAN: a value per month against a target) ---------------------


@pytest.fixture(scope="module")
def target_90(calendar: LegalCalendar) -> Schedule:
    from tests.conftest import shipped

    return Schedule(shipped(Source("config.toml", "[rules.SERAPAN]\ntarget = 90\n")), calendar)


SERAPAN_CARRIERS = [Assignment("A", "SERAPAN"), Assignment("B", "SERAPAN")]


@pytest.mark.parametrize(
    ("values", "status", "value"),
    [
        pytest.param([95.0], Status.MET, 95.0, id="above"),
        pytest.param([90.0], Status.MET, 90.0, id="at-target"),
        pytest.param([87.5], Status.BELOW, 87.5, id="below"),
        pytest.param([95.0, 80.0], Status.BELOW, 80.0, id="a-correction-replaces"),
        pytest.param([None], Status.OVERDUE, None, id="a-record-without-value"),
        pytest.param([], Status.OVERDUE, None, id="nothing"),
    ],
)
def test_a_measure_is_met_or_below_its_target_by_its_value(
    target_90: Schedule, values: list[float | None], status: Status, value: float | None
) -> None:
    subs = [
        Submission("SERAPAN", "2025-02", wita(2025, 3, 1, 9 + n), None, value=v)
        for n, v in enumerate(values)
    ]
    ev = run(target_90, SERAPAN_CARRIERS, wita(2025, 3, 3), subs)
    for employee in ("A", "B"):
        item = status_of(ev, employee, "SERAPAN", "2025-02")
        assert (item.status, item.value, item.status.is_open) == (
            status,
            value,
            status is Status.OVERDUE,
        )


def test_a_measure_achievement_counts_periods_met(target_90: Schedule) -> None:
    subs = [
        Submission("SERAPAN", "2025-01", wita(2025, 2, 3), "A", value=92.0),
        Submission("SERAPAN", "2025-02", wita(2025, 3, 1), "A", value=70.0),
    ]
    ev = run(target_90, SERAPAN_CARRIERS, wita(2025, 4, 2), subs)
    # January met, February below, March missing: one of three checkpoints met.
    assert achievement(ev, "B", "SERAPAN") == Achievement("B", "SERAPAN", 2025, 1, 3)
    # What speaks for the cell is the missing March value, not February's low one.
    year = (date(2025, 1, 1), date(2025, 12, 31))
    cells = evaluate(
        target_90, roster(*SERAPAN_CARRIERS), subs, [], wita(2025, 4, 2), year, detail=False
    ).headlines
    assert {(h.employee, h.period, h.status) for h in cells} == {
        ("A", "2025-03", Status.OVERDUE),
        ("B", "2025-03", Status.OVERDUE),
    }
