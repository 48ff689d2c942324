"""Migration 0009 on a database made with schema 0008: the records of the lagged rules move
to the period the agency names, nothing is lost, nothing is reassigned, sent notices stay
recognised."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from alembic import command
from sqlalchemy import Row, insert, select
from sqlalchemy.orm import Session

from rules.calendar import WITA
from rules.plan import notice_key
from scheduler.store import models
from scheduler.store.db import SCHEMA_REVISION, Database

AT = datetime(2025, 3, 15, 10, tzinfo=WITA)

# (rule, period under 0008) -> period under 0009
MOVES = [
    ("SPT", "2025", "2024"),  # filed by 31 March 2025: tax year 2024
    ("SPT", "2024", "2023"),  # the year before moves too, without a clash
    ("LHKPN", "2025", "2024"),
    ("LKJP", "2025", "2024"),
    ("LKSKPD", "2025", "2024"),
    ("SHS", "2025", "2026"),  # proposed in April 2025 for budget year 2026
    ("SHS", "2026", "2027"),
    ("SKP", "2025", "2025"),  # the 2025 plan: unchanged
    ("EPANTAU", "2025-02", "2025-02"),
]


def _old_database(url: str) -> Database:
    """A database as schema 0008 left it, with one employee's records of every move."""
    database = Database(url)
    command.upgrade(database._alembic(), "0008")
    with Session(database.engine) as session, session.begin():
        employee = models.Employee(key="A", name="A", updated_at=AT)
        session.add(employee)
        session.flush()
        for rule, period, _ in MOVES:
            # Only the columns of schema 0008: the model holds those added since.
            session.execute(insert(models.Submission).values(employee_id=employee.id,
                            rule_code=rule, period=period, submitted_at=AT, source="cli",
                            recorded_by="t", recorded_at=AT))  # fmt: skip
            session.add(models.Exemption(employee_id=employee.id, rule_code=rule, period=period,
                        reason="cuti", recorded_by="t", recorded_at=AT))  # fmt: skip
            session.add(_sent(rule, period))
    return database


def _sent(rule: str, period: str) -> models.Outbox:
    return models.Outbox(key=notice_key("A", rule, period, "H+5", "A"), recipient="A",
                         role="employee", kind="overdue", employee="A", rule_code=rule,
                         period=period, step="H+5", due=date(2025, 3, 31), planned_at=AT,
                         state="sent", next_attempt_at=AT, sent_at=AT)  # fmt: skip


def _pairs(rows: Iterable[Row[tuple[str, str]]]) -> set[tuple[str, str]]:
    return {(first, second) for first, second in rows}


def _stored(database: Database) -> dict[str, set[tuple[str, str]]]:
    with Session(database.engine) as session:
        return {
            "submissions": _pairs(session.execute(select(models.Submission.rule_code,
                                                      models.Submission.period))),
            "exemptions": _pairs(session.execute(select(models.Exemption.rule_code,
                                                     models.Exemption.period))),
            "outbox": _pairs(session.execute(select(models.Outbox.rule_code,
                                                 models.Outbox.key))),
        }  # fmt: skip


def test_records_move_to_the_period_the_agency_names(database_url: str) -> None:
    database = _old_database(database_url)
    database.migrate()
    assert database.revision() == SCHEMA_REVISION
    stored = _stored(database)
    moved = {(rule, new) for rule, _, new in MOVES}
    assert stored["submissions"] == moved
    assert stored["exemptions"] == moved
    # the plan's key for the same notice: a notice already sent is not sent again
    assert stored["outbox"] == {
        (rule, notice_key("A", rule, new, "H+5", "A")) for rule, _, new in MOVES
    }
    database.engine.dispose()


def test_downgrade_moves_them_back(database_url: str) -> None:
    database = _old_database(database_url)
    before = _stored(database)
    database.migrate()
    command.downgrade(database._alembic(), "0008")
    assert _stored(database) == before
    database.engine.dispose()
