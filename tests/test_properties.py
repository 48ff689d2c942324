"""Properties of the schedule, the evaluation and the plan over generated rosters and times."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise

from hypothesis import event, given, settings
from hypothesis import strategies as st

from rules.calendar import WITA, LegalCalendar
from rules.catalog import Catalog
from rules.evaluate import (
    Assignment,
    Evaluation,
    Person,
    Roster,
    Status,
    Submission,
    evaluate,
    headlines,
)
from rules.periods import period_year
from rules.plan import Notice, plan
from rules.schedule import Event, EventIndex, Occurrence, Schedule, index_events

FEW = settings(max_examples=60, deadline=None)


# --- the schedule ------------------------------------------------------------------------


def assert_well_formed(
    schedule: Schedule,
    occurrences: Sequence[Occurrence],
    start: date,
    end: date,
    events: EventIndex,
) -> None:
    """One occurrence per period, dated, in the window, in strictly increasing due order,
    due within a year of its period, and the same as asked for by period."""
    periods = [occ.period for occ in occurrences]
    assert len(set(periods)) == len(periods), periods
    dues = [occ.due for occ in occurrences if occ.due is not None]
    assert len(dues) == len(occurrences), occurrences
    assert all(start <= due <= end for due in dues), dues
    assert all(a < b for a, b in pairwise(dues)), dues
    for occ, due in zip(occurrences, dues, strict=True):
        assert abs(due.year - period_year(occ.period)) <= 1, occ
        rule = schedule.catalog.rules[occ.rule]
        assert schedule.occurrence(rule, occ.period, events) == occ


@FEW
@given(year=st.integers(2020, 2035))
def test_recurring_rules_have_one_occurrence_per_period(schedule: Schedule, year: int) -> None:
    recurring = [r for r in schedule.catalog.rules.values() if r.rrule is not None]
    assert {"SKP", "EPANTAU", "MR"} <= {r.code for r in recurring}
    start, end = date(year, 1, 1), date(year, 12, 31)
    for rule in recurring:
        occurrences = schedule.occurrences(rule, start, end)
        assert occurrences, rule.code  # every shipped recurrence fires at least once a year
        assert_well_formed(schedule, occurrences, start, end, {})


@FEW
@given(year=st.integers(2020, 2035), data=st.data())
def test_anchored_pk_has_one_occurrence_per_period(
    schedule: Schedule, year: int, data: st.DataObject
) -> None:
    """APBD of budget year Y is adopted between September of Y-1 and June of Y."""
    events = index_events(
        Event("APBD_ADOPTED", str(y), data.draw(st.dates(date(y - 1, 9, 1), date(y, 6, 30))))
        for y in (year - 1, year, year + 1)
    )
    pk = schedule.catalog.get("PK")
    start, end = date(year - 1, 1, 1), date(year + 1, 12, 31)
    occurrences = [o for o in schedule.occurrences(pk, start, end, events) if o.due is not None]
    assert_well_formed(schedule, occurrences, start, end, events)
    this = schedule.occurrence(pk, str(year), events)
    assert this.due is not None and this.nominal is not None
    assert 28 <= (this.nominal - events[("APBD_ADOPTED", str(year))]).days <= 31
    assert this.due == schedule.calendar.next_working_day(this.nominal)  # a document handed in


# --- generated rosters -------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    roster: Roster
    events: tuple[Event, ...]
    now: datetime


@st.composite
def scenarios(draw: st.DrawFn, codes: Sequence[str]) -> Scenario:
    ids = [f"P{i}" for i in range(draw(st.integers(1, 6)))]
    people = {
        pid: Person(pid, draw(st.none() | st.sampled_from(ids[:i])) if i else None)
        for i, pid in enumerate(ids)
    }
    exempt = st.frozensets(st.sampled_from(["2025", "2026", "2025-Q2", "2025-03"]), max_size=1)
    since = st.sampled_from([None, date(2025, 1, 1), date(2025, 7, 1), date(2026, 1, 1)])
    assignments = [
        Assignment(pid, code, draw(exempt), draw(since))
        for pid in ids
        for code in draw(st.lists(st.sampled_from(codes), max_size=3, unique=True))
    ]
    events = draw(
        st.lists(
            st.builds(
                Event,
                st.just("APBD_ADOPTED"),
                st.sampled_from(["2025", "2026"]),
                st.dates(date(2024, 9, 1), date(2026, 6, 30)),
            ),
            max_size=2,
        )
    )
    now = draw(
        st.datetimes(datetime(2025, 1, 1), datetime(2026, 12, 31, 23, 59), timezones=st.just(WITA))
    )
    roster = Roster(people, assignments, draw(st.none() | st.sampled_from(ids)))
    return Scenario(roster, tuple(events), now)


def draw_submissions(
    data: st.DataObject,
    evaluation: Evaluation,
    calendar: LegalCalendar,
    max_size: int = 6,
    open_only: bool = False,
) -> list[Submission]:
    """Submissions for occurrences in view, a few days either side of the due day, never
    after ``now``; for agency rules sometimes without an employee."""
    dated = [
        s
        for s in evaluation.statuses
        if s.occurrence.due is not None and (s.status.is_open or not open_only)
    ]
    if not dated:
        return []
    subs = []
    for item in data.draw(st.lists(st.sampled_from(dated), max_size=max_size)):
        assert item.occurrence.due is not None
        day = item.occurrence.due + timedelta(days=data.draw(st.integers(-10, 10)))
        when = min(calendar.at(day, time(data.draw(st.integers(0, 23)))), evaluation.now)
        by = data.draw(st.sampled_from([item.employee, None]))
        subs.append(Submission(item.rule, item.period, when, by))
    return subs


def run(schedule: Schedule, scenario: Scenario, subs: Sequence[Submission]) -> list[Notice]:
    evaluation = evaluate(schedule, scenario.roster, subs, scenario.events, scenario.now)
    return plan(schedule, scenario.roster, evaluation)


def setup(
    schedule: Schedule, catalog: Catalog, data: st.DataObject
) -> tuple[Scenario, list[Submission]]:
    scenario = data.draw(scenarios(sorted(catalog.rules)), label="scenario")
    bare = evaluate(schedule, scenario.roster, [], scenario.events, scenario.now)
    return scenario, draw_submissions(data, bare, schedule.calendar)


@FEW
@given(data=st.data())
def test_plan_is_repeatable(schedule: Schedule, catalog: Catalog, data: st.DataObject) -> None:
    scenario, subs = setup(schedule, catalog, data)
    first = [n.key for n in run(schedule, scenario, subs)]
    assert [n.key for n in run(schedule, scenario, subs)] == first
    assert len(set(first)) == len(first)


@FEW
@given(data=st.data())
def test_a_submission_never_adds_a_notice(
    schedule: Schedule, catalog: Catalog, data: st.DataObject
) -> None:
    scenario, subs = setup(schedule, catalog, data)
    current = evaluate(schedule, scenario.roster, subs, scenario.events, scenario.now)
    extra = draw_submissions(data, current, schedule.calendar, max_size=1, open_only=True)
    before = {n.key for n in run(schedule, scenario, subs)}
    after = {n.key for n in run(schedule, scenario, [*subs, *extra])}
    assert after <= before
    event("a notice went" if after < before else "no change")


@FEW
@given(data=st.data())
def test_one_step_per_open_occurrence(
    schedule: Schedule, catalog: Catalog, data: st.DataObject
) -> None:
    scenario, subs = setup(schedule, catalog, data)
    steps: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for notice in run(schedule, scenario, subs):
        assert notice.status.is_open
        assert notice.scheduled_for <= scenario.now
        assert notice.recipient == notice.employee or notice.role != "employee"
        steps[(notice.employee, notice.rule, notice.period)].add(notice.step)
    assert all(len(found) == 1 for found in steps.values()), steps
    event(f"occurrences notified: {min(len(steps), 3)}+")


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_fresh_schedule_gives_the_same_answers(
    schedule: Schedule, catalog: Catalog, data: st.DataObject
) -> None:
    scenario, subs = setup(schedule, catalog, data)
    fresh = Schedule(catalog, LegalCalendar())
    old = evaluate(schedule, scenario.roster, subs, scenario.events, scenario.now)
    new = evaluate(fresh, scenario.roster, subs, scenario.events, scenario.now)
    assert (new.statuses, new.achievements) == (old.statuses, old.achievements)
    assert plan(fresh, scenario.roster, new) == plan(schedule, scenario.roster, old)


@FEW
@given(data=st.data())
def test_headlines_are_the_best_of_the_detailed_statuses(
    schedule: Schedule, catalog: Catalog, data: st.DataObject
) -> None:
    """The matrix mode (one status per assignment, agency carriers worked out once) picks
    what the full list would: this year's items or debts still owed, the most pressing."""
    scenario, subs = setup(schedule, catalog, data)
    args = (schedule, scenario.roster, subs, scenario.events, scenario.now)
    full, heads = evaluate(*args), evaluate(*args, detail=False)
    assert heads.achievements == full.achievements
    today = scenario.now.astimezone(WITA).date()
    best = {(h.employee, h.rule): h for h in headlines(full.statuses, today)}
    assert {(h.employee, h.rule): h for h in heads.headlines} == best
    owed = {Status.DUE_SOON, Status.DUE_TODAY, Status.OVERDUE, Status.PENDING}
    for head in heads.headlines:  # a cell shows this year's item, or a debt still owed
        occ = head.occurrence
        year = occ.due.year if occ.due else period_year(occ.period)
        assert year == today.year or head.status in owed
    assert heads.statuses == []
