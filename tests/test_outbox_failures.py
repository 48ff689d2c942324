"""What happens after a failed send: retries, their waits, dead letters, lost claims, and
long messages retried part by part, on SQLite and PostgreSQL, over the fake Bot API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from html import escape

import pytest
from fake_telegram import ACCEPT, SERVER_ERROR, FakeBotAPI
from sqlalchemy import select
from test_service import MARCH_3, SECRETARY, seed_roster
from test_telegram import STAFF, link_everyone, telegram_environ

from notifications.telegram import split
from scheduler import models, records
from scheduler.config import load_config
from scheduler.service import Service


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as fake:
        yield fake


def telegram_service(url: str, api: FakeBotAPI) -> Service:
    """The service over the fake Bot API, with no per-chat pause between parts."""
    environ = telegram_environ(url, api) | {"TENGGAT_TELEGRAM_PER_CHAT_SECONDS": "0"}
    return Service(load_config(None, environ=environ), lambda: MARCH_3)


def test_a_digest_retried_later_sends_only_its_missing_part(
    database_url: str, api: FakeBotAPI
) -> None:
    """The Secretary's weekly digest goes in two parts; the second fails (a 500).  The retry
    comes minutes later, after a submission was recorded, yet the digest reads as it did
    when it was queued (its first line says that moment, not the retry's, and what was
    handed in since is next week's news), so part 1 is recognised and only part 2 goes."""
    seed_roster(database_url)
    chat = link_everyone(database_url)[SECRETARY]
    service = telegram_service(database_url, api)
    assert service.queue_digests(MARCH_3) == 1  # the digest alone, no reminders
    api.script(chat, ACCEPT, SERVER_ERROR)
    service.dispatch(MARCH_3)
    (first,) = api.texts(chat)
    assert first.startswith("Ringkasan mingguan") and "pukul 09.00 WITA" in first
    table = models.Outbox
    with service.db.read() as session:
        (row,) = session.scalars(select(table).where(table.kind == "digest")).all()
    assert (row.state, bool(row.delivered_parts)) == ("pending", True)
    later = row.next_attempt_at + timedelta(minutes=7)  # a clock that reads 09:08 or so
    with service.db.write() as session:  # handed in meanwhile: news for next week's digest
        staff = records.find_employee(session, STAFF)
        catalog = service.config.catalog
        records.record_submission(session, catalog, staff, "SKP", "2025", later, later, "test")
    service.dispatch(later)
    texts = api.texts(chat)
    assert texts[0] == first and len(texts) == 2  # part 1 once, then part 2
    whole = service.digest_for(SECRETARY, MARCH_3).text
    assert texts == split(escape(whole))  # nothing lost, in order
    with service.db.read() as session:
        assert session.scalars(select(table.state).where(table.id == row.id)).one() == "sent"
    service.db.engine.dispose()
