"""The plan: which reminders and escalations should exist at ``now``.

Level-triggered, like a thermostat rather than an alarm clock: for each open occurrence the
newest ladder step whose time has come is planned, whether or not anything ran when it fell
due.  A service that was down therefore catches up with one message per occurrence, not a
burst of every step it missed; the idempotency key lets the outbox refuse what was already sent.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from rules.calendar import LegalCalendar
from rules.catalog import Catalog, Scope, Step
from rules.evaluate import OPEN, Evaluation, OccurrenceStatus, Person, Roster, Status
from rules.schedule import Schedule


class NoticeKind(StrEnum):
    REMINDER = "reminder"  # before the due day, to the employee
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"  # after the due day, to the employee
    ESCALATION = "escalation"  # after the due day, to a superior or the Secretary
    VERIFY = "verify"  # handed in but not verified by the due day: to whoever verifies it


class Notice(NamedTuple):
    """One intended message about one occurrence to one recipient."""

    key: str
    recipient: str
    role: str  # "employee" | "superior" | "secretary"
    kind: NoticeKind
    employee: str
    rule: str
    period: str
    step: str  # "H-3", "H", "H+1"
    due: date
    status: Status
    days_late: int | None
    scheduled_for: datetime

    @property
    def planned_at(self) -> datetime:
        """When it is planned for: its step's moment (the outbox keeps when it was queued)."""
        return self.scheduled_for


def notice_key(employee: str, rule: str, period: str, step: str, recipient: str) -> str:
    """Deterministic identity of a notice: the same facts always give the same key."""
    return f"{employee}|{rule}|{period}|{step}|{recipient}"


def _kind(status: Status, role: str) -> NoticeKind:
    """What the message says follows the occurrence's state now, not the step's name: a step
    caught up after midnight of the due day speaks of an overdue item, not a due one."""
    if role != "employee":
        return NoticeKind.ESCALATION
    if status is Status.OVERDUE:
        return NoticeKind.OVERDUE
    return NoticeKind.DUE_TODAY if status is Status.DUE_TODAY else NoticeKind.REMINDER


def plan(schedule: Schedule, roster: Roster, evaluation: Evaluation) -> list[Notice]:
    """The notices that should exist at ``evaluation.now``, at most one step per occurrence."""
    now = evaluation.now
    catalog, calendar = schedule.catalog, schedule.calendar
    # The newest step reached depends only on the occurrence, not on who carries it.  The
    # schedule hands every carrier the same Occurrence object, so its id() is a cheap key.
    newest: dict[int, tuple[datetime, Step] | None] = {}
    unit_rules = frozenset(r.code for r in catalog.active if r.scope is Scope.UNIT)
    notices: list[Notice] = []
    for item in evaluation.statuses:
        occ = item.occurrence
        if id(occ) in newest:
            found = newest[id(occ)]
        else:
            found = newest[id(occ)] = _newest_step(catalog, calendar, occ.rule, occ.due, now)
        if found is not None and item.status in OPEN:
            unit_rule = occ.rule in unit_rules
            notices.extend(_addressed(roster, item, found[1], found[0], unit_rule))
    return _one_verification_per_unit(roster, notices, unit_rules) if unit_rules else notices


def _one_verification_per_unit(
    roster: Roster, notices: list[Notice], unit_rules: frozenset[str]
) -> list[Notice]:
    """A unit deliverable awaiting verification is one thing to verify, however many of the
    unit carry it: each recipient is told of it once per unit and step.  The notice kept is
    about a colleague's input where there is one (the head verifying their staff's), else
    the lowest key: the same choice every tick, so the outbox's key holds."""
    chosen: dict[tuple[str, str, str, str, str | None], Notice] = {}
    kept: list[Notice] = []
    for notice in notices:
        if notice.kind is not NoticeKind.VERIFY or notice.rule not in unit_rules:
            kept.append(notice)
            continue
        person = roster.people.get(notice.employee)
        unit = person.unit if person is not None else None
        group = (notice.recipient, notice.rule, notice.period, notice.step, unit or notice.employee)
        held = chosen.get(group)
        if held is None or _rank(notice) < _rank(held):
            chosen[group] = notice
    return kept + sorted(chosen.values(), key=lambda n: n.key)


def _rank(notice: Notice) -> tuple[bool, str]:
    return notice.employee == notice.recipient, notice.employee


def _heads_unit(roster: Roster, person: Person | None) -> bool:
    """Whether ``person`` heads their unit: they have one, and nobody above them is in it."""
    if person is None or not person.unit:
        return False
    boss = roster.people.get(person.superior) if person.superior else None
    return boss is None or boss.unit != person.unit


def _newest_step(
    catalog: Catalog, calendar: LegalCalendar, rule: str, due: date | None, now: datetime
) -> tuple[datetime, Step] | None:
    """The latest ladder step whose moment has come, with that moment."""
    if due is None:
        return None
    reached = [
        (moment, step)
        for step in catalog.ladder(catalog.rules[rule])
        if (moment := calendar.at(calendar.working_day_offset(due, step.at), catalog.reminder_time))
        <= now
    ]
    return max(reached, key=lambda pair: pair[0]) if reached else None


def _addressed(
    roster: Roster, item: OccurrenceStatus, step: Step, moment: datetime, unit_rule: bool = False
) -> list[Notice]:
    """One notice per distinct recipient of a step; nobody is told about themselves twice,
    and a missing superior or Secretary is skipped rather than guessed.  An item handed in
    but not verified by its deadline is the verifier's to act on: the employee's part of
    the step goes to their superior (the Kepala Bidang who verifies), not to them.  For a
    unit deliverable (``unit_rule``) the verifier is the head of the unit: the carrier's
    superior in the same unit, else the carrier, who then heads it (without a unit known,
    their superior, as for anyone)."""
    employee = item.employee
    person = roster.people.get(employee)
    recipients: dict[str, str] = {}
    verifying = item.awaits_verification
    heads_unit = unit_rule and verifying and _heads_unit(roster, person)
    for role in step.to:
        if role == "employee" and verifying and not heads_unit:
            role = "superior"
        if role == "employee":
            recipient: str | None = employee
        elif role == "superior":
            recipient = person.superior if person else None
        else:
            recipient = roster.secretary
        if recipient is None or (role != "employee" and recipient == employee):
            continue
        recipients.setdefault(recipient, role)
    occ = item.occurrence
    assert occ.due is not None
    return [
        Notice(
            key=notice_key(employee, occ.rule, occ.period, step.label, recipient),
            recipient=recipient,
            role=role,
            kind=NoticeKind.VERIFY if verifying else _kind(item.status, role),
            employee=employee,
            rule=occ.rule,
            period=occ.period,
            step=step.label,
            due=occ.due,
            status=item.status,
            days_late=item.days_late,
            scheduled_for=moment,
        )
        for recipient, role in recipients.items()
    ]
