"""What happens after a failed send: retries, their waits, dead letters, lost claims, and
long messages retried part by part, on SQLite and PostgreSQL, over the fake Bot API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from html import escape

import pytest
from fake_telegram import ACCEPT, SERVER_ERROR, FakeBotAPI, too_many
from sqlalchemy import select
from test_service import MARCH_3, SECRETARY, seed_roster
from test_telegram import STAFF, link_everyone, telegram_environ

from notifications.telegram import split
from scheduler.config import load_config
from scheduler.service.tick import Service
from scheduler.store import models, outbox, records, submissions


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as fake:
        yield fake


def telegram_service(url: str, api: FakeBotAPI) -> Service:
    """The service over the fake Bot API, with no per-chat pause between parts."""
    environ = telegram_environ(url, api) | {"TENGGAT_TELEGRAM_PER_CHAT_SECONDS": "0"}
    return Service(load_config(None, environ=environ), lambda: MARCH_3)


@pytest.mark.parametrize("dated", [timedelta(0), timedelta(days=-1)], ids=["then", "earlier"])
def test_a_digest_retried_later_sends_only_its_missing_part(
    database_url: str, api: FakeBotAPI, dated: timedelta
) -> None:
    """The Secretary's weekly digest goes in two parts; the second fails (a 500).  The retry
    comes minutes later, after a submission was recorded, yet the digest reads as it did
    when it was queued (its first line says that moment, not the retry's, and what was
    recorded since is next week's news, even when dated a day before the digest, as
    ``submit --at`` or a sheet may), so part 1 is recognised and only part 2 goes."""
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
        handed_in = later if not dated else MARCH_3 + dated
        submissions.add(session, staff.id, "SKP", "2025", handed_in, later, "t")
    service.dispatch(later)
    texts = api.texts(chat)
    assert texts[0] == first and len(texts) == 2  # part 1 once, then part 2
    whole = service.digest_for(SECRETARY, MARCH_3).text
    assert texts == split(escape(whole))  # nothing lost, in order
    with service.db.read() as session:
        assert session.scalars(select(table.state).where(table.id == row.id)).one() == "sent"
    service.db.engine.dispose()


def queue_for(service: Service, recipient: str) -> list[models.Outbox]:
    """Queue what the plan owes ``recipient`` at MARCH_3 (no digest); return their rows."""
    _, _, notices = service.planned(MARCH_3)
    with service.db.write() as session:
        outbox.enqueue(session, [n for n in notices if n.recipient == recipient], MARCH_3)
    return rows_of(service, recipient)


def rows_of(service: Service, recipient: str) -> list[models.Outbox]:
    table = models.Outbox
    with service.db.read() as session:
        query = select(table).where(table.recipient == recipient).order_by(table.id)
        return list(session.scalars(query))


def test_a_long_retry_after_is_waited_for_not_only_the_backoff(
    database_url: str, api: FakeBotAPI
) -> None:
    """Telegram answers 429 asking for 50 minutes, far more than the first backoff (about
    a minute): the message is not tried again before those 50 minutes, then goes once."""
    seed_roster(database_url)
    chat = link_everyone(database_url)[STAFF]
    service = telegram_service(database_url, api)
    assert queue_for(service, STAFF)
    asked = 3000.0
    api.script(chat, too_many(int(asked)))
    service.dispatch(MARCH_3)
    rows = rows_of(service, STAFF)
    assert {r.state for r in rows} == {"pending"} and api.texts(chat) == []
    assert min(r.next_attempt_at for r in rows) >= MARCH_3 + timedelta(seconds=asked)
    for minutes in (2, 10, 49):  # the dispatcher runs every minute; nothing goes meanwhile
        service.dispatch(MARCH_3 + timedelta(minutes=minutes))
    assert api.texts(chat) == [] and api.refused_429 == 1
    service.dispatch(MARCH_3 + timedelta(seconds=asked + 1))
    assert len(api.texts(chat)) == 1
    assert {r.state for r in rows_of(service, STAFF)} == {"sent"}
    service.db.engine.dispose()


def test_a_message_failing_every_time_is_a_dead_letter_after_the_last_try(
    database_url: str, api: FakeBotAPI
) -> None:
    """A chat whose every send fails (a 500): the rows are tried MAX_ATTEMPTS times, each
    after its backoff, then given up as dead letters with the reason, and never again."""
    seed_roster(database_url)
    chat = link_everyone(database_url)[STAFF]
    service = telegram_service(database_url, api)
    assert queue_for(service, STAFF)
    api.always(chat, SERVER_ERROR)
    now = MARCH_3
    for _ in range(outbox.MAX_ATTEMPTS + 2):  # more turns than tries: the extra find nothing
        service.dispatch(now)
        rows = rows_of(service, STAFF)
        now = max(now, *(r.next_attempt_at for r in rows)) + timedelta(seconds=1)
    tries = api.calls["sendMessage"]
    assert tries == outbox.MAX_ATTEMPTS
    assert {(r.state, r.attempts, r.sent_at) for r in rows} == {("dead", outbox.MAX_ATTEMPTS, None)}
    assert all(r.receipt and "Internal Server Error" in r.receipt for r in rows)
    service.dispatch(now + timedelta(days=1))
    assert api.calls["sendMessage"] == tries
    service.db.engine.dispose()


def test_a_dispatcher_whose_claim_was_taken_over_settles_nothing(database_url: str) -> None:
    """Dispatcher A claims, stalls past the lease; B takes the rows over.  A's late result,
    a failure or even a success, must not touch rows it no longer holds: neither while B
    sends (B's claim stays) nor after B settled them (they stay sent, as B recorded)."""
    seed_roster(database_url)
    service = Service(
        load_config(None, environ={"TENGGAT_DATABASE_URL": database_url}), lambda: MARCH_3
    )
    rows = queue_for(service, STAFF)
    later = MARCH_3 + outbox.LEASE + timedelta(minutes=1)
    with service.db.write() as session:
        mine = outbox.claim(session, "A", MARCH_3)
    with service.db.write() as session:
        theirs = outbox.claim(session, "B", later)
    assert [c.id for c in mine] == [c.id for c in theirs] == [r.id for r in rows]
    with service.db.write() as session:  # A comes back while B is sending
        outbox.keep_parts(session, [(c, ("a-part",)) for c in mine], "A")
        failed = [outbox.Attempt(c, "telegram", error="timed out") for c in mine]
        outbox.settle(session, failed, "A", later + timedelta(seconds=5))
    held = {(r.state, r.claimed_by, r.attempts, r.delivered_parts) for r in rows_of(service, STAFF)}
    assert held == {("claimed", "B", 2, "")}
    done = later + timedelta(seconds=10)
    with service.db.write() as session:
        sent = [outbox.Attempt(c, "console", receipt="console") for c in theirs]
        assert set(outbox.settle(session, sent, "B", done)) == {"sent"}
    with service.db.write() as session:  # and again after B settled: still nothing changes
        lucky = [outbox.Attempt(c, "telegram", receipt="telegram:1:9") for c in mine]
        outbox.settle(session, lucky, "A", done + timedelta(minutes=1))
    settled = {(r.state, r.claimed_by, r.channel, r.sent_at) for r in rows_of(service, STAFF)}
    assert settled == {("sent", None, "console", done)}
    service.db.engine.dispose()


def test_a_sent_row_says_when_it_was_sent(database_url: str, api: FakeBotAPI) -> None:
    """Every row sent by a dispatch carries that moment in ``sent_at`` (what `tenggat
    outbox` and the audit read), and no row left pending claims to have been sent."""
    seed_roster(database_url)
    chats = link_everyone(database_url)
    service = telegram_service(database_url, api)
    queue_for(service, STAFF)
    queue_for(service, SECRETARY)
    api.always(chats[SECRETARY], SERVER_ERROR)
    service.dispatch(MARCH_3)
    staff, secretary = rows_of(service, STAFF), rows_of(service, SECRETARY)
    assert staff and {(r.state, r.sent_at) for r in staff} == {("sent", MARCH_3)}
    assert secretary and {(r.state, r.sent_at) for r in secretary} == {("pending", None)}
    service.db.engine.dispose()
