"""rules.plan: the newest ladder step reached, addressed to each distinct recipient once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time

import pytest

from rules.calendar import WITA, LegalCalendar
from rules.catalog import Catalog, Source
from rules.errors import DefinitionError
from rules.evaluate import Assignment, Person, Roster, Status, Submission, evaluate
from rules.plan import Notice, NoticeKind, notice_key, plan
from rules.schedule import Schedule

PEOPLE = {
    "S": Person("S", unit="Sekretariat"),  # the Secretary, nobody above
    "K": Person("K", superior="S", unit="Bidang I"),  # heads Bidang I
    "A": Person("A", superior="K", unit="Bidang I"),
    "B": Person("B", superior="K", unit="Bidang I"),
    "C": Person("C", superior="S", unit="Bidang II"),  # heads Bidang II, alone in it
}
SKP_DUE = date(2025, 2, 28)  # Friday


def plan_at(
    schedule: Schedule,
    now: datetime,
    assignments: Iterable[Assignment] = (Assignment("A", "SKP"),),
    submissions: Iterable[Submission] = (),
) -> list[Notice]:
    roster = Roster(PEOPLE, list(assignments), secretary="S")
    return plan(schedule, roster, evaluate(schedule, roster, list(submissions), [], now))


def step_time(calendar: LegalCalendar, due: date, at: int, clock: time = time(8)) -> datetime:
    return calendar.at(calendar.working_day_offset(due, at), clock)


def summary(notices: Iterable[Notice]) -> list[tuple[str, str, NoticeKind, str]]:
    return sorted((n.recipient, n.role, n.kind, n.step) for n in notices)


def test_nothing_before_the_first_step(schedule: Schedule, calendar: LegalCalendar) -> None:
    first = step_time(calendar, SKP_DUE, -7)
    assert plan_at(schedule, datetime(2025, 1, 6, 8, tzinfo=WITA)) == []
    assert plan_at(schedule, first.replace(hour=7, minute=59)) == []
    assert summary(plan_at(schedule, first)) == [("A", "employee", NoticeKind.REMINDER, "H-7")]


def test_reminder_exactly_at_reminder_time(schedule: Schedule, calendar: LegalCalendar) -> None:
    h3 = step_time(calendar, SKP_DUE, -3)
    (notice,) = plan_at(schedule, h3)
    assert (notice.recipient, notice.kind, notice.step) == ("A", NoticeKind.REMINDER, "H-3")
    assert (notice.due, notice.status, notice.scheduled_for) == (SKP_DUE, Status.DUE_SOON, h3)
    assert notice.key == "A|SKP|2025|H-3|A" == notice_key("A", "SKP", "2025", "H-3", "A")
    (previous,) = plan_at(schedule, h3.replace(hour=7, minute=59))
    assert previous.step == "H-7"
    assert previous.scheduled_for == step_time(calendar, SKP_DUE, -7)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (0, [("A", "employee", NoticeKind.DUE_TODAY, "H")]),
        (1, [("A", "employee", NoticeKind.OVERDUE, "H+1"),
             ("K", "superior", NoticeKind.ESCALATION, "H+1")]),
        (5, [("A", "employee", NoticeKind.OVERDUE, "H+5"),
             ("K", "superior", NoticeKind.ESCALATION, "H+5"),
             ("S", "secretary", NoticeKind.ESCALATION, "H+5")]),
    ],
)  # fmt: skip
def test_due_day_and_escalation_ladder(
    schedule: Schedule, calendar: LegalCalendar, at: int, expected: list[tuple[str, ...]]
) -> None:
    notices = plan_at(schedule, step_time(calendar, SKP_DUE, at).replace(hour=9))
    assert summary(notices) == expected
    assert {n.key for n in notices} == {f"A|SKP|2025|{n.step}|{n.recipient}" for n in notices}
    assert len({n.key for n in notices}) == len(notices)


def test_secretary_own_overdue_item_tells_nobody_else(
    schedule: Schedule, calendar: LegalCalendar
) -> None:
    notices = plan_at(schedule, step_time(calendar, SKP_DUE, 5), [Assignment("S", "SKP")])
    assert summary(notices) == [("S", "employee", NoticeKind.OVERDUE, "H+5")]


def test_superior_who_is_secretary_is_told_once(
    schedule: Schedule, calendar: LegalCalendar
) -> None:
    notices = plan_at(schedule, step_time(calendar, SKP_DUE, 5), [Assignment("K", "SKP")])
    assert summary(notices) == [
        ("K", "employee", NoticeKind.OVERDUE, "H+5"),
        ("S", "superior", NoticeKind.ESCALATION, "H+5"),
    ]
    assert [n.key for n in notices if n.recipient == "S"] == ["K|SKP|2025|H+5|S"]


def test_submitted_occurrence_has_no_notices(schedule: Schedule, calendar: LegalCalendar) -> None:
    now = step_time(calendar, SKP_DUE, 5)
    for when in (
        datetime(2025, 2, 1, tzinfo=WITA),
        datetime(2025, 3, 4, tzinfo=WITA),
    ):  # on time, late
        assert plan_at(schedule, now, submissions=[Submission("SKP", "2025", when, "A")]) == []
    assert len(plan_at(schedule, now)) == 3


def test_agency_rule_notifies_every_carrier_until_anyone_submits(
    schedule: Schedule, calendar: LegalCalendar
) -> None:
    carriers = [Assignment("A", "P3DN"), Assignment("C", "P3DN")]
    now = step_time(calendar, date(2025, 2, 25), 1)
    notices = [n for n in plan_at(schedule, now, carriers) if n.period == "2025-02"]
    assert {n.key for n in notices} == {
        "A|P3DN|2025-02|H+1|A", "A|P3DN|2025-02|H+1|K",
        "C|P3DN|2025-02|H+1|C", "C|P3DN|2025-02|H+1|S",
    }  # fmt: skip
    done = [Submission("P3DN", "2025-02", datetime(2025, 2, 26, tzinfo=WITA), "C")]
    assert [n for n in plan_at(schedule, now, carriers, done) if n.period == "2025-02"] == []


def test_unit_rule_notifies_the_carriers_of_a_unit_until_one_of_it_submits(
    schedule: Schedule, calendar: LegalCalendar
) -> None:
    carriers = [Assignment(key, "EPANTAU") for key in ("A", "B", "C")]
    now = step_time(calendar, date(2025, 2, 10), 1)
    done = [
        Submission("EPANTAU", "2025-02", datetime(2025, 2, 7, tzinfo=WITA), "B", unit="Bidang I")
    ]
    notices = [n for n in plan_at(schedule, now, carriers, done) if n.period == "2025-02"]
    # B's record serves A and B (Bidang I); Bidang II's e-Pantau is still C's to do
    assert {n.key for n in notices} == {"C|EPANTAU|2025-02|H+1|C", "C|EPANTAU|2025-02|H+1|S"}


def test_a_unit_deliverable_awaiting_verification_is_its_head_s_once(
    schedule: Schedule, calendar: LegalCalendar
) -> None:
    carriers = [Assignment(key, "EPANTAU") for key in ("K", "A", "B", "C")]
    handed = datetime(2025, 2, 7, 14, tzinfo=WITA)
    records = [
        Submission("EPANTAU", "2025-02", handed, "A", False, unit="Bidang I"),
        Submission("EPANTAU", "2025-02", handed, "C", False, unit="Bidang II"),
    ]
    h1 = step_time(calendar, date(2025, 2, 10), 1)
    notices = [n for n in plan_at(schedule, h1, carriers, records) if n.period == "2025-02"]
    # K heads Bidang I: told once, of A's input (not once per carrier, nor of their own);
    # K's superior is told of K's pending verification; C heads Bidang II alone: told
    # themselves, and their superior S
    assert sorted((n.recipient, n.employee, n.kind) for n in notices) == [
        ("C", "C", NoticeKind.VERIFY),
        ("K", "A", NoticeKind.VERIFY),
        ("S", "C", NoticeKind.VERIFY),
        ("S", "K", NoticeKind.VERIFY),
    ]
    # the same choice every tick, whatever order the records come in
    again = plan_at(schedule, h1, carriers[::-1], records[::-1])
    assert {n.key for n in again if n.period == "2025-02"} == {n.key for n in notices}


@pytest.mark.parametrize(
    ("verified_at", "expected"),
    [
        # handed in on the 7th, not verified by the 10th: the verifier is told, not A
        (None, [("K", "superior", NoticeKind.VERIFY, "H+1")]),
        # verified on time: nobody is told anything
        (datetime(2025, 2, 10, 16, tzinfo=WITA), []),
    ],
)
def test_an_unverified_item_goes_to_whoever_verifies_it(
    schedule: Schedule,
    calendar: LegalCalendar,
    verified_at: datetime | None,
    expected: list[tuple[str, str, NoticeKind, str]],
) -> None:
    now = step_time(calendar, date(2025, 2, 10), 1)
    handed = datetime(2025, 2, 7, 14, tzinfo=WITA)
    record = Submission(
        "EPANTAU",
        "2025-02",
        handed,
        "A",
        verified=verified_at is not None,
        verified_at=verified_at,
        unit="Bidang I",
    )
    notices = plan_at(schedule, now, [Assignment("A", "EPANTAU")], [record])
    assert summary(n for n in notices if n.period == "2025-02") == expected


def test_sunday_due_date_steps_back_to_last_working_day(
    schedule: Schedule, calendar: LegalCalendar
) -> None:
    due = date(2024, 3, 31)  # SPT of tax year 2023: a Sunday, holiday_policy fixed
    assert schedule.occurrence(schedule.catalog.get("SPT"), "2023").due == due
    assert calendar.holiday_name(date(2024, 3, 29))  # Good Friday
    h = calendar.working_day_offset(due, 0)
    assert h == date(2024, 3, 28)  # Thursday: skips Sunday, Saturday and Good Friday
    assignments = [Assignment("A", "SPT")]
    (notice,) = plan_at(schedule, calendar.at(h, time(8)), assignments)
    # the last working day before the deadline, which is still three days away
    assert (notice.step, notice.kind, notice.due) == ("H", NoticeKind.REMINDER, due)
    assert notice.status is Status.DUE_SOON
    (notice,) = plan_at(schedule, calendar.at(h, time(7, 59)), assignments)
    assert notice.step == "H-1"
    (notice,) = plan_at(schedule, datetime(2024, 3, 31, 20, tzinfo=WITA), assignments)
    assert (notice.step, notice.status) == ("H", Status.DUE_TODAY)
    h1 = step_time(calendar, due, 1)
    assert h1 == datetime(2024, 4, 1, 8, tzinfo=WITA)
    assert summary(plan_at(schedule, h1, assignments)) == [
        ("A", "employee", NoticeKind.OVERDUE, "H+1"),
        ("K", "superior", NoticeKind.ESCALATION, "H+1"),
    ]


def test_reminder_time_from_config_moves_the_step(
    schedule: Schedule, calendar: LegalCalendar, make_catalog
) -> None:
    early = Schedule(make_catalog(Source("c.toml", "reminder_time = 07:00:00\n")), calendar)
    seven = step_time(calendar, SKP_DUE, -3, time(7))
    (notice,) = plan_at(early, seven)
    assert (notice.step, notice.scheduled_for) == ("H-3", seven)
    (notice,) = plan_at(early, seven.replace(hour=6, minute=59))
    assert notice.step == "H-7"
    (notice,) = plan_at(schedule, seven)  # the shipped 08:00 has not come yet
    assert notice.step == "H-7"


def test_ladder_with_two_steps_on_one_day_does_not_crash(
    calendar: LegalCalendar, make_catalog
) -> None:
    config = (
        '[rules.SKP]\nladder = [{ at = 1, to = ["employee"] }, { at = 1, to = ["superior"] }]\n'
    )
    try:
        catalog = make_catalog(Source("c.toml", config))
    except DefinitionError as exc:  # refusing such a ladder at load time is a fix too
        assert "ladder" in str(exc)
        return
    split = Schedule(catalog, calendar)
    notices = plan_at(split, step_time(calendar, SKP_DUE, 1))
    assert {n.recipient for n in notices} <= {"A", "K"}
    assert notices


@pytest.mark.parametrize(
    "ladder",
    [
        '[{ at = 1, to = ["superior"] }, { at = 3, to = ["secretary"] }]',
        '[{ at = 1, to = ["superior", "secretary"] }]',
    ],
)
def test_nobody_is_escalated_about_themselves_when_the_ladder_skips_the_employee(
    calendar: LegalCalendar, make_catalog: Callable[..., Catalog], ladder: str
) -> None:
    """A ladder that never addresses the employee (superior, then the Secretary): the
    Secretary's own overdue item goes to nobody, not to the Secretary as an escalation
    about themselves; nor does the item of someone recorded as their own superior.  Their
    staff's items still reach them."""
    catalog = make_catalog(Source("c.toml", f"[rules.SKP]\nladder = {ladder}\n"))
    escalating = Schedule(catalog, calendar)
    now = step_time(calendar, SKP_DUE, 3)
    people = {**PEOPLE, "X": Person("X", superior="X")}
    roster = Roster(people, [Assignment(p, "SKP") for p in ("S", "K", "X")], secretary="S")
    notices = plan(escalating, roster, evaluate(escalating, roster, [], [], now))
    assert all(n.recipient != n.employee for n in notices)
    assert {(n.employee, n.recipient) for n in notices} == {("K", "S"), ("X", "S")}
