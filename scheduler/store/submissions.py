"""The submissions table's one writer.  A submission row is never changed: a correction, an
import or a verification is a new row, and every path that records one (``tenggat submit``,
the bot's /lapor and /verifikasi, ``tenggat bot verify``, the submissions sheet) makes it
here, so the columns an audit reads are filled the same way whoever recorded it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from rules.catalog import Catalog, Rule, Scope
from rules.schedule import Schedule
from scheduler.store import models, records


class Added(NamedTuple):
    """What :func:`add` did.  ``row`` is the row that counts now; ``kept_evidence``: it
    carries the earlier row's evidence, since the new record brought none; ``repeated``: the
    record only repeated the row that counts, so nothing new was written."""

    row: models.Submission
    kept_evidence: bool = False
    repeated: bool = False


def add(
    session: Session,
    employee_id: int | None,
    code: str,
    period: str,
    submitted_at: datetime,
    now: datetime,
    recorded_by: str,
    evidence: str = "",
    source: str = "cli",
    verified: bool = False,
    verified_at: datetime | None = None,
    replace: bool = False,
    value: float | None = None,
) -> Added:
    """Add a submission row (``employee_id`` None: the agency's); ``verified`` records that
    the recorder checked it, at ``verified_at`` (default: as it was handed in).  e-Pantau
    counts only once verified, and is on time only when verified by its deadline.  ``value``
    is a measured rule's value.  The caller has checked the rule, period and value.

    The newest row counts, so a record without evidence would quietly drop the evidence of
    the one it replaces: unless ``replace``, it carries that evidence over.  A record that
    then says nothing new (same moment, same evidence and value, no verification gained) is
    not written again: a repeated command or a re-imported sheet does not pile up rows."""
    earlier = newest(session, employee_id, code, period)
    kept = bool(not evidence and not replace and earlier is not None and earlier.evidence)
    if kept and earlier is not None:
        evidence = earlier.evidence
    if (
        earlier is not None
        and earlier.submitted_at == submitted_at
        and earlier.evidence == evidence
        and earlier.value == value
        and (earlier.verified_at is not None or not verified)
    ):
        return Added(earlier, kept, repeated=True)
    row = models.Submission(
        employee_id=employee_id,
        rule_code=code,
        period=period,
        submitted_at=submitted_at,
        evidence=evidence,
        source=source,
        recorded_by=recorded_by,
        recorded_at=now,
        verified_at=(verified_at or submitted_at) if verified else None,
        verified_by=recorded_by if verified else None,
        value=value,
    )
    session.add(row)
    return Added(row, kept)


def record(
    session: Session,
    schedule: Schedule,
    employee: models.Employee,
    code: str,
    period: str,
    submitted_at: datetime,
    now: datetime,
    recorded_by: str,
    evidence: str | Callable[[], str],
    value: str | None,
    source: str = "cli",
    verified: bool = False,
    replace: bool = False,
) -> Added:
    """A person's submission as a person records it (``tenggat submit``, the web desk):
    the rule and period checked against the schedule (the row's ``rule_code`` is the
    canonical code), the typed ``value`` read as the rule wants, then :func:`add`.
    ``evidence`` may be what makes the text once those pass, so a form's file is checked
    only after its rule and period, and each refusal stays the one the form showed before."""
    code = records.check_submission_period(schedule, code, period, submitted_at)
    measured = records.check_value(schedule.catalog, code, value)
    said = evidence() if callable(evidence) else evidence
    return add(
        session,
        employee.id,
        code,
        period,
        submitted_at,
        now,
        recorded_by,
        said,
        source=source,
        verified=verified,
        replace=replace,
        value=measured,
    )


def pending_verification(
    session: Session, catalog: Catalog, limit: int = 10
) -> list[models.Submission]:
    """The newest row of each (employee or agency, rule, period) of a rule that needs
    verification, when it is not verified yet; oldest first."""
    codes = [r.code for r in catalog.rules.values() if r.verification]
    if not codes:
        return []
    table = models.Submission
    newest = (
        select(func.max(table.id))
        .where(table.rule_code.in_(codes))
        .group_by(table.employee_id, table.rule_code, table.period)
    )
    return list(
        session.scalars(
            select(table)
            .where(table.id.in_(newest), table.verified_at.is_(None))
            .order_by(table.id)
            .limit(limit)
        )
    )


def newest(
    session: Session, employee_id: int | None, code: str, period: str
) -> models.Submission | None:
    """The row that counts for (employee or agency, rule, period): the latest one."""
    table = models.Submission
    owner = table.employee_id.is_(None) if employee_id is None else table.employee_id == employee_id
    return session.scalar(
        select(table)
        .where(owner, table.rule_code == code, table.period == period)
        .order_by(table.id.desc())
        .limit(1)
    )


def to_verify(
    session: Session, employee: models.Employee, rule: Rule, period: str
) -> models.Submission | None:
    """The record ``employee`` would verify for (``rule``, ``period``): their own, else, for
    a deliverable one record serves, the one that serves them: a colleague's of their unit
    (the Kepala Bidang verifying their staff's e-Pantau input) or anyone's for the agency.
    The newest still unverified, else the newest."""
    return serving(session, employee, [(rule, period)]).get((rule.code, period))


def serving(
    session: Session, employee: models.Employee, wanted: Iterable[tuple[Rule, str]]
) -> dict[tuple[str, str], models.Submission]:
    """`to_verify` for many (rule, period) at once, in one query: a person's page shows
    the record behind each of their items (``(code, period)`` -> row; none: no record)."""
    pairs = {(rule.code, period): rule for rule, period in wanted}
    if not pairs:
        return {}
    table = models.Submission
    scopes = {code: rule.scope for (code, _), rule in pairs.items()}
    shared = {code for code, scope in scopes.items() if scope is Scope.AGENCY}
    units = {code for code, scope in scopes.items() if scope is Scope.UNIT}
    whose = [table.employee_id == employee.id, table.rule_code.in_(shared)]
    if units and employee.unit_id is not None:
        colleagues = select(models.Employee.id).where(models.Employee.unit_id == employee.unit_id)
        whose.append(table.rule_code.in_(units) & table.employee_id.in_(colleagues))
    rows = session.scalars(
        select(table).where(
            or_(*whose),
            table.rule_code.in_({code for code, _ in pairs}),
            table.period.in_({period for _, period in pairs}),
        )
    )
    own: dict[tuple[str, str], models.Submission] = {}
    theirs: dict[tuple[str, str], models.Submission] = {}
    for row in rows:
        pair = (row.rule_code, row.period)
        if pair not in pairs:
            continue
        if row.employee_id == employee.id:
            if pair not in own or row.id > own[pair].id:
                own[pair] = row
        elif scopes[row.rule_code] is not Scope.PERSONAL:
            held = theirs.get(pair)
            # the newest still unverified, else the newest
            if held is None or (row.verified_at is None, row.id) > (
                held.verified_at is None,
                held.id,
            ):
                theirs[pair] = row
    return theirs | own


def verify(
    session: Session,
    row: models.Submission,
    now: datetime,
    by: str,
    source: str,
    at: datetime | None = None,
) -> models.Submission:
    """Verify a pending submission at ``at`` (default: now): rows are never changed, so a
    new row repeats it (same moment, same evidence) with the verification.  The moment
    matters: a verification after the deadline makes the item late."""
    verified = add(
        session,
        row.employee_id,
        row.rule_code,
        row.period,
        row.submitted_at,
        now,
        by,
        row.evidence,
        source,
        verified=True,
        verified_at=at or now,
        value=row.value,
    ).row
    session.flush()
    return verified
