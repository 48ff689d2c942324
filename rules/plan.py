"""The plan: which reminders and escalations should exist at ``now``.

Level-triggered, like a thermostat rather than an alarm clock: for each open occurrence the
newest ladder step whose time has come is planned, whether or not anything ran when it fell
due.  A service that was down therefore catches up with one message per occurrence, not a
burst of every step it missed; the idempotency key lets the outbox refuse what was already sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from rules.catalog import Step
from rules.evaluate import Evaluation, OccurrenceStatus, Roster, Status
from rules.schedule import Schedule


class NoticeKind(StrEnum):
    REMINDER = "reminder"  # before the due day, to the employee
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"  # after the due day, to the employee
    ESCALATION = "escalation"  # after the due day, to a superior or the Secretary


@dataclass(frozen=True, slots=True)
class Notice:
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
    calendar = schedule.calendar
    send_at = schedule.catalog.reminder_time
    step_times: dict[tuple[str, str], list[tuple[datetime, Step]]] = {}
    notices: list[Notice] = []
    for item in evaluation.statuses:
        if not item.status.is_open:
            continue
        occ = item.occurrence
        assert occ.due is not None
        times = step_times.get((occ.rule, occ.period))
        if times is None:
            ladder = schedule.catalog.ladder(schedule.catalog.rules[occ.rule])
            times = sorted(
                (
                    (calendar.at(calendar.working_day_offset(occ.due, step.at), send_at), step)
                    for step in ladder
                ),
                key=lambda pair: pair[0],
            )
            step_times[(occ.rule, occ.period)] = times
        reached = [(moment, step) for moment, step in times if moment <= now]
        if reached:
            moment, step = reached[-1]
            notices.extend(_addressed(roster, item, step, moment))
    return notices


def _addressed(
    roster: Roster, item: OccurrenceStatus, step: Step, moment: datetime
) -> list[Notice]:
    """One notice per distinct recipient of a step; nobody is told about themselves twice,
    and a missing superior or Secretary is skipped rather than guessed."""
    employee = item.employee
    person = roster.people.get(employee)
    recipients: dict[str, str] = {}
    for role in step.to:
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
            kind=_kind(item.status, role),
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
