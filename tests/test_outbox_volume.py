"""An outbox at the scale of a province: one recipient owed more notices than a statement
may carry parameters (65,535 on PostgreSQL's protocol) is claimed and sent all the same, in
one message of a bounded size, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import threading
import time
from datetime import date, timedelta
from typing import cast

import pytest
from sqlalchemy import Table, func, insert, select
from sqlalchemy.exc import DBAPIError
from test_service import MARCH_3, SECRETARY, seed_roster

from notifications.console import ConsoleChannel
from scheduler.config import load_config
from scheduler.service.tick import Service
from scheduler.store import models, outbox
from scheduler.store.db import Database, failure
from scheduler.store.outbox import Row

OWED = 70_001  # past PostgreSQL's 65,535 parameters in one statement
RULES = ("SKP", "PK", "LHKPN")


def escalation(n: int) -> Row:
    """The Secretary's H+5 escalation of staff member ``n`` (not on the roster: named by
    key), over a few obligations, as the plan writes it."""
    return Row(
        key=f"bulk-{n}|{RULES[n % 3]}|2025|H+5|{SECRETARY}",
        recipient=SECRETARY,
        role="secretary",
        kind="escalation",
        employee=f"bulk-{n}",
        rule_code=RULES[n % 3],
        period="2025",
        step="H+5",
        due=date(2025, 2, 28),
        days_late=3,
    )


FRESH = {"planned_at": MARCH_3, "state": "pending", "attempts": 0, "next_attempt_at": MARCH_3}


def test_one_recipient_owed_seventy_thousand_notices_gets_them_in_one_message(
    database_url: str,
) -> None:
    seed_roster(database_url)
    service = Service(load_config(None, environ={"TENGGAT_DATABASE_URL": database_url}),
                      lambda: MARCH_3)  # fmt: skip
    printed = io.StringIO()
    service.channels["console"] = ConsoleChannel(printed)
    table = cast(Table, models.Outbox.__table__)
    with service.db.write() as session:  # executemany: the driver sends it in batches
        session.connection().execute(
            insert(table), [{**escalation(n), **FRESH} for n in range(OWED)]
        )
    assert service.dispatch(MARCH_3) == OWED
    with service.db.read() as session:
        query = select(table.c.state, func.count()).group_by(table.c.state)
        states = {state: count for state, count in session.execute(query)}
        tries = session.scalar(select(func.count()).select_from(models.Delivery))
    assert states == {"sent": OWED} and tries == OWED
    messages = printed.getvalue().split("[console] → ")[1:]
    assert len(messages) == 1 and messages[0].startswith(f"SUTRISNO, S.Sos, M.Si ({SECRETARY})")
    (letter,) = messages
    assert "Sasaran Kinerja Pegawai (SKP) Tahun 2025: 23334 orang belum menyampaikan" in letter
    assert "dan 23326 lainnya: lihat ringkasan mingguan" in letter
    assert len(letter) < 4096
    assert service.dispatch(MARCH_3) == 0  # nothing twice
    service.db.engine.dispose()


def test_add_writes_each_new_row_as_planned_and_skips_the_keys_already_queued(
    database_url: str,
) -> None:
    """`add` writes in bulk (executemany on SQLite, COPY through a temporary table on
    PostgreSQL): every column arrives as planned, a None included, and a key queued before
    adds nothing."""
    database = Database(database_url)
    database.migrate()
    first, second = escalation(0), escalation(1)
    contact = outbox.contact_row("bulk-9", SECRETARY, "telegram", date(2025, 3, 3))
    with database.write() as session:
        assert outbox.add(session, [first, contact], MARCH_3) == 2
    later = MARCH_3 + timedelta(minutes=15)
    with database.write() as session:
        assert outbox.add(session, [contact, second, first], later) == 1
    with database.read() as session:
        rows = session.scalars(select(models.Outbox).order_by(models.Outbox.id)).all()
        written = [
            (r.key, r.recipient, r.role, r.kind, r.employee, r.rule_code, r.period, r.step,
             r.due, r.days_late, r.planned_at, r.state, r.attempts, r.next_attempt_at)
            for r in rows
        ]  # fmt: skip
    database.engine.dispose()
    planned = [(first, MARCH_3), (contact, MARCH_3), (second, later)]
    assert written == [
        (*(row[name] for name in Row.__annotations__), at, "pending", 0, at)  # type: ignore[literal-required]
        for row, at in planned
    ]


@pytest.mark.parametrize("first_ends", ["commit", "rollback"])
def test_two_planners_queueing_the_same_keys_at_once_write_each_once(
    database_url: str, first_ends: str
) -> None:
    """A second instance queues the plan while the first holds the same keys uncommitted:
    it waits for the first and then adds what the first did not keep.  After a commit that
    is nothing (no duplicate, no error); after a rollback it is every row."""
    database = Database(database_url)
    database.migrate()
    rows = [escalation(n) for n in range(3_000)]
    inserted, second = threading.Event(), []

    def queue_again() -> None:
        inserted.wait()
        try:
            with database.write() as session:
                second.append(outbox.add(session, rows, MARCH_3))
        except Exception as exc:  # the assertion below says what it was
            second.append(exc)

    other = threading.Thread(target=queue_again)
    other.start()
    with database.write() as session:
        assert outbox.add(session, rows, MARCH_3) == len(rows)
        inserted.set()
        time.sleep(0.5)  # the other instance is waiting on these keys meanwhile
        if first_ends == "rollback":
            session.rollback()
    other.join(timeout=60)
    with database.read() as session:
        stored = session.scalar(select(func.count(func.distinct(models.Outbox.key))))
        total = session.scalar(select(func.count()).select_from(models.Outbox))
    database.engine.dispose()
    assert second == [0 if first_ends == "commit" else len(rows)]
    assert stored == total == len(rows)


def test_a_bulk_write_to_a_read_only_database_is_the_databases_sentence(
    database_url: str,
) -> None:
    """The bulk path talks to the driver itself (executemany, COPY): its errors still reach
    the service as SQLAlchemy's, which `failure` says in one line instead of a traceback."""
    database = Database(database_url)
    database.migrate()
    read_only = {
        "sqlite": "PRAGMA query_only = ON",
        "postgresql": "SET TRANSACTION READ ONLY",
    }[database.url.get_backend_name()]
    try:
        with pytest.raises(DBAPIError) as raised, database.write() as session:
            session.connection().exec_driver_sql(read_only)
            outbox.add(session, [escalation(n) for n in range(3)], MARCH_3)
        said = failure(database.url, raised.value)
        assert said is not None and "read" in str(said).lower(), raised.value
        with database.read() as session:
            assert session.scalar(select(func.count()).select_from(models.Outbox)) == 0
    finally:
        with database.engine.connect() as connection:
            if database.url.get_backend_name() == "sqlite":
                connection.exec_driver_sql("PRAGMA query_only = OFF")
        database.engine.dispose()
