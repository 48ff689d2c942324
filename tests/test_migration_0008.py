"""Migration 0008: verifications recorded before it are dated at their submission, so a
verified e-Pantau stays verified and keeps the status it had (on time by its submission)."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert, select

from scheduler.store import models
from scheduler.store.db import Database

SUBMITTED = datetime(2025, 2, 7, 6, tzinfo=UTC)  # 14:00 WITA, before the 10th
RECORDED = datetime(2025, 3, 3, 1, tzinfo=UTC)  # written down after the deadline


def test_old_verifications_are_dated_at_their_submission(database_url: str) -> None:
    database = Database(database_url)
    database.migrate()
    command.downgrade(database._alembic(), "0007")  # the schema the previous version left
    with database.write() as session:
        for verified in (RECORDED, None):  # before 0008, verified_at was when it was recorded
            # Only the columns of schema 0007: the model holds those added since.
            session.execute(
                insert(models.Submission).values(
                    rule_code="EPANTAU",
                    period="2025-02",
                    submitted_at=SUBMITTED,
                    source="cli",
                    recorded_by="t",
                    recorded_at=RECORDED,
                    verified_at=verified,
                )
            )
    database.migrate()
    with database.read() as session:
        rows = session.execute(
            select(models.Submission.verified_at, models.Submission.recorded_at).order_by(
                models.Submission.id
            )
        ).all()
    assert rows == [(SUBMITTED, RECORDED), (None, RECORDED)]
    database.engine.dispose()
