"""Telegram: the channel against a fake Bot API on 127.0.0.1, and the service over it.

Assertions are on what the fake server received (count, chat, text), never on our own code's
internals; python-telegram-bot does the talking, through ``base_url``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fake_telegram import ACCEPT, BLOCKED, NOT_FOUND, SERVER_ERROR, TOKEN, FakeBotAPI, too_many
from sqlalchemy import func, select
from test_service import MARCH_3, SECRETARY, TENGGAT, seed_roster

from notifications.message import DeliveryError, Message, Progress
from notifications.telegram import MAX_LENGTH, TelegramChannel, split
from rules.calendar import WITA
from scheduler.config import load_config
from scheduler.service.dispatch import contacts_of
from scheduler.service.tick import Service
from scheduler.store import models, outbox
from scheduler.store.db import Database
from scheduler.store.outbox import LEASE

STAFF = "197110122007012026"  # YANTI HEIDA YANI


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as fake:
        yield fake


def message(chat: str | int, html: str = "halo", text: str = "") -> Message:
    return Message(f"P{chat}", text or html, (f"k{chat}",), html=html, address=str(chat))


def deliver(api: FakeBotAPI, messages: list[Message], **limits: float) -> list[object]:
    with TelegramChannel(TOKEN, api.base_url, **limits) as channel:
        return list(channel.deliver(messages))


def test_messages_arrive_as_html_one_get_me_per_run(api: FakeBotAPI) -> None:
    results = deliver(api, [message(1, "<b>A</b> &amp; B"), message(2, html="", text="x < y & z")])
    assert results == ["telegram:1:1", "telegram:2:2"]
    assert api.calls["getMe"] == 1
    assert [(s.chat_id, s.text, s.parse_mode) for s in api.sent] == [
        ("1", "<b>A</b> &amp; B", "HTML"),
        ("2", "x &lt; y &amp; z", "HTML"),  # plain text is escaped for HTML parse mode
    ]


def test_a_long_message_goes_in_well_formed_parts_of_at_most_4096(api: FakeBotAPI) -> None:
    lines = [f"• <b>Pegawai {i}</b>: SKP periode 2025 &amp; SPT" for i in range(400)]
    (receipt,) = deliver(api, [message(7, "\n".join(lines))], per_chat=0.0)
    parts = api.texts(7)
    assert len(parts) == len(str(receipt).split(":")[2].split(",")) >= 4
    assert all(len(part) <= MAX_LENGTH for part in parts)
    assert "\n".join(parts).splitlines() == lines  # cut at line ends: nothing lost or doubled


def test_buttons_go_under_the_last_part_eight_at_most(api: FakeBotAPI) -> None:
    lines = [f"• <b>Pegawai {i:03d}</b>: SKP periode 2025".ljust(49, ".") for i in range(100)]
    html = "\n".join(lines) + "!"
    assert len(html) == 5000
    buttons = tuple((f"✅ Sudah lapor R{i} 2025", f"lapor:R{i}:2025") for i in range(10))
    with_buttons = Message("P7", html, ("k7",), html=html, address="7", buttons=buttons)
    deliver(api, [with_buttons, message(8)], per_chat=0.0)
    first, last = [s for s in api.sent if s.chat_id == "7"]
    assert first.reply_markup is None and last.text.endswith("!")
    assert last.buttons() == list(buttons[:8])  # one a row, the first eight
    assert [s.reply_markup for s in api.sent if s.chat_id == "8"] == [None]


@pytest.mark.parametrize("unit", ["<b>dua kata</b> ", "R&amp;D ", "x" * 50 + " "])
def test_split_never_cuts_a_tag_or_an_entity(unit: str) -> None:
    line = unit * (3 * MAX_LENGTH // len(unit))
    parts = split(line)
    assert len(parts) >= 3 and all(len(p) <= MAX_LENGTH for p in parts)
    for part in parts:
        assert part.count("<b>") == part.count("</b>")  # every part is well-formed
        assert not re.search(r"&[a-z]*$", part) and not re.search(r"<[^>]*$", part)
    untagged = re.sub(r"</?b>", "", "".join(parts))
    assert untagged == re.sub(r"</?b>", "", line)  # nothing lost, nothing doubled


def test_a_429_holds_only_that_chat(api: FakeBotAPI) -> None:
    api.script(1, too_many(1))
    results = deliver(api, [message(chat) for chat in range(1, 6)])
    assert all(str(r).startswith("telegram:") for r in results)
    assert api.refused_429 == 1
    assert [s.chat_id for s in api.sent][-1] == "1"  # the others did not wait for it
    assert api.texts(1) == ["halo"]  # sent once, after its wait


def test_a_long_retry_after_is_a_transient_error_carrying_the_wait(api: FakeBotAPI) -> None:
    api.script(1, too_many(120))
    (error,) = deliver(api, [message(1)])
    assert isinstance(error, DeliveryError)
    assert (error.permanent, error.retry_after) == (False, 120.0)
    assert api.sent == []


def test_blocked_and_missing_chats_are_unreachable_a_500_is_transient(api: FakeBotAPI) -> None:
    api.always(1, BLOCKED)
    api.always(2, NOT_FOUND)
    api.script(3, SERVER_ERROR)
    blocked, missing, failed, fine = deliver(api, [message(c) for c in (1, 2, 3, 4)])
    assert isinstance(blocked, DeliveryError) and blocked.unreachable and blocked.permanent
    assert isinstance(missing, DeliveryError) and missing.unreachable and missing.permanent
    assert isinstance(failed, DeliveryError) and not failed.permanent
    assert fine == "telegram:4:1"


def long_html(parts: int) -> str:
    """HTML that goes in exactly ``parts`` parts."""
    lines = [f"• <b>Pegawai {i}</b>: SKP periode 2025 &amp; SPT" for i in range(80 * parts)]
    html = "\n".join(lines)
    assert len(split(html)) == parts
    return html


def attempt(api: FakeBotAPI, message: Message) -> tuple[object, frozenset[str]]:
    """One delivery of ``message``: its result, and the parts it reported as sent (with
    those of ``skip``) by the time it ended, as the dispatcher keeps them."""
    sent = set(message.skip)

    def report(_index: int, result: object) -> None:
        if isinstance(result, Progress):
            sent.update(result.delivered)

    with TelegramChannel(TOKEN, api.base_url, per_chat=0.0) as channel:
        (result,) = channel.deliver([message], report)
    return result, frozenset(sent)


def test_a_retry_sends_only_the_parts_a_failure_left_unsent(api: FakeBotAPI) -> None:
    html = long_html(3)
    api.script(7, ACCEPT, SERVER_ERROR)  # part 1 goes out, part 2 fails
    failed, sent = attempt(api, message(7, html))
    assert isinstance(failed, DeliveryError) and not failed.permanent
    assert len(sent) == 1 and "(1 of 3 parts delivered" in str(failed)
    receipt, _ = attempt(api, replace(message(7, html), skip=sent))
    assert receipt == "telegram:7:2,3"  # the ids of this attempt's parts
    assert api.texts(7) == split(html)  # part 1 once, then 2 and 3 once each


def test_progress_accumulates_over_failures(api: FakeBotAPI) -> None:
    html = long_html(3)
    buttons = (("✅ Sudah lapor SKP 2025", "lapor:SKP:2025"),)
    first = Message("P7", html, ("k7",), html=html, address="7", buttons=buttons)
    api.script(7, ACCEPT, SERVER_ERROR)
    failed, sent = attempt(api, first)
    assert isinstance(failed, DeliveryError) and len(sent) == 1
    api.script(7, ACCEPT, too_many(120))  # part 2 goes out; part 3 must wait too long
    again, more = attempt(api, replace(first, skip=sent))
    assert isinstance(again, DeliveryError) and again.retry_after == 120.0
    assert more > sent and len(more) == 2
    assert "(2 of 3 parts delivered" in str(again)
    done, _ = attempt(api, replace(first, skip=more))
    assert done == "telegram:7:3"
    assert api.texts(7) == split(html)
    assert api.sent[-1].buttons() == list(buttons)  # under the last part, as ever


def test_a_wrong_token_fails_at_opening_and_is_never_shown(api: FakeBotAPI) -> None:
    wrong = "999:WRONG-secret"
    with pytest.raises(DeliveryError) as caught, TelegramChannel(wrong, api.base_url):
        pass
    assert not caught.value.permanent  # fixable by the admin; the rows wait
    assert wrong not in str(caught.value) and "999" not in str(caught.value)
    assert api.calls["sendMessage"] == 0


def test_pacing_stays_under_the_servers_limits() -> None:
    """The fake refuses more than 20 a second overall or two within 0.5 s to one chat.  The
    margins (15 a second, 0.7 s) absorb a busy machine delaying one request more than the
    next: the server counts arrivals, the pacer departures."""
    with FakeBotAPI(rate=20, per_chat=0.5) as api:
        chats = [c % 30 for c in range(45)]  # fifteen chats get two messages
        results = deliver(api, [message(c) for c in chats], rate=15, per_chat=0.7)
        assert api.refused_429 == 0
        assert all(str(r).startswith("telegram:") for r in results)
        assert Counter(s.chat_id for s in api.sent) == Counter(str(c) for c in chats)


# ---- the service over Telegram ---------------------------------------------------------


def telegram_environ(url: str, api: FakeBotAPI) -> dict[str, str]:
    return {
        "TENGGAT_DATABASE_URL": url,
        "TENGGAT_TELEGRAM_TOKEN": TOKEN,
        "TENGGAT_TELEGRAM_API_URL": api.base_url,
    }


def link_everyone(url: str, but: str = "") -> dict[str, str]:
    """Give every employee (but one) a chat id (100 + row number); return key → chat."""
    database = Database(url)
    with database.write() as session:
        people = session.scalars(select(models.Employee).order_by(models.Employee.id)).all()
        for number, person in enumerate(people):
            person.telegram_chat_id = str(100 + number) if person.key != but else None
        chats = {p.key: str(p.telegram_chat_id) for p in people}
    database.engine.dispose()
    return chats


def test_the_service_sends_one_telegram_message_per_person_once(
    database_url: str, api: FakeBotAPI
) -> None:
    seed_roster(database_url)
    chats = link_everyone(database_url)
    service = Service(
        load_config(None, environ=telegram_environ(database_url, api)), lambda: MARCH_3
    )
    notices = service.tick()
    received = len(api.sent)
    service.tick()  # again: nothing new
    assert len(api.sent) == received
    recipients = {n.recipient for n in notices}
    greeted = Counter(s.chat_id for s in api.sent if s.text.startswith("Yth. "))
    assert greeted == Counter(chats[r] for r in recipients)  # one message each
    secretarys = api.texts(chats[SECRETARY])
    assert len([t for t in secretarys if t.startswith("Ringkasan mingguan")]) == 1  # Monday
    # his staff's items by obligation, not 57 people by name: one part, not three
    (secretary,) = [t for t in secretarys if t.startswith("Yth. ")]
    assert secretary.startswith("Yth. Bapak SUTRISNO, S.Sos, M.Si\n")
    assert secretary.endswith("<i>Pesan ini dikirim otomatis oleh Tenggat.</i>")
    assert "<b>Kewajiban bawahan Bapak yang belum disampaikan, per kewajiban:</b>" in secretary
    staff = api.texts(chats[STAFF])[0]
    assert "Sasaran Kinerja Pegawai (SKP) Tahun 2025: belum disampaikan, lewat 3 hari" in staff


def test_a_blocked_chat_falls_back_and_the_admin_is_told(
    database_url: str, api: FakeBotAPI
) -> None:
    seed_roster(database_url)
    chats = link_everyone(database_url)
    api.always(chats[STAFF], BLOCKED)
    service = Service(
        load_config(None, environ=telegram_environ(database_url, api)), lambda: MARCH_3
    )
    service.tick()
    with service.db.read() as session:
        staff = session.scalars(select(models.Employee).filter_by(key=STAFF)).one()
        rows = session.execute(
            select(models.Outbox.state, models.Outbox.channel).where(
                models.Outbox.recipient == STAFF
            )
        ).all()
    assert staff.telegram_unreachable and "blocked" in staff.telegram_unreachable
    assert rows and set(rows) == {("sent", "console")}  # no e-mail known: the console says it
    told = [t for t in api.texts(chats[SECRETARY]) if "Kontak yang perlu diperbarui" in t]
    assert len(told) == 1 and f"YANTI HEIDA YANI ({STAFF})" in told[0]
    service.tick()  # later ticks neither try the dead chat again nor repeat the warning
    assert len([t for t in api.texts(chats[SECRETARY]) if "Kontak" in t]) == 1


def test_a_part_that_failed_goes_after_the_backoff_and_the_others_are_not_repeated(
    database_url: str, api: FakeBotAPI
) -> None:
    """The Secretary's escalation goes in several parts (of a shorter limit than Telegram's:
    it fits one of 4096 characters); the second fails once (a 500).  The dispatcher's retry
    after the backoff sends the parts not yet delivered, never the first again: every part
    reaches the Secretary once."""
    seed_roster(database_url)
    chats = link_everyone(database_url)
    environ = telegram_environ(database_url, api) | {"TENGGAT_TELEGRAM_PER_CHAT_SECONDS": "0"}
    service = Service(load_config(None, environ=environ), lambda: MARCH_3)
    service.channels["telegram"].max_length = PART  # type: ignore[attr-defined]
    _, _, notices = service.planned(MARCH_3)
    with service.db.write() as session:
        outbox.enqueue(session, notices, MARCH_3)  # the notices alone: no weekly digest
        contacts = contacts_of(session, notices)
    (secretarys,) = [
        o.message
        for o in service.dispatcher.compose(notices, contacts)
        if o.message.address == chats[SECRETARY]
    ]
    parts = split(secretarys.html, PART)
    assert len(parts) >= 2  # two, on this roster
    api.script(chats[SECRETARY], ACCEPT, SERVER_ERROR)
    service.dispatch(MARCH_3)
    assert api.texts(chats[SECRETARY]) == parts[:1]
    table = models.Outbox
    with service.db.read() as session:
        rows = session.scalars(select(table).where(table.recipient == SECRETARY)).all()
    assert rows and {(r.state, bool(r.delivered_parts)) for r in rows} == {("pending", True)}
    (retry_at,) = {r.next_attempt_at for r in rows}  # together: the same message again
    later = retry_at + timedelta(seconds=1)
    service.dispatch(later)
    assert api.texts(chats[SECRETARY]) == parts  # each part once, in order
    with service.db.read() as session:
        assert set(session.scalars(select(table.state))) == {"sent"}
        log = session.execute(
            select(models.Delivery.outbox_id, models.Delivery.outcome, models.Delivery.detail)
            .join(table, table.id == models.Delivery.outbox_id)
            .where(table.recipient == SECRETARY)
            .order_by(models.Delivery.id)
        ).all()
    for row in rows:  # the transient attempt, then the sent one naming the other parts
        (failed, why), (sent, receipt) = [(o, detail) for i, o, detail in log if i == row.id]
        assert failed == "transient" and f"(1 of {len(parts)} parts delivered" in why
        assert sent == "sent" and receipt.startswith(f"telegram:{chats[SECRETARY]}:")
        assert len(receipt.split(":")[2].split(",")) == len(parts) - 1


DISPATCH_ONCE = """
import os, sys
from datetime import datetime
from scheduler.config import load_config
from scheduler.service.tick import Service
now = datetime.fromisoformat(sys.argv[1])
service = Service(load_config(None, environ=os.environ), lambda: now)
service.channels["telegram"].max_length = int(sys.argv[2])
service.dispatch(now)
"""
# A part's length in the tests of a message in parts: the Secretary's escalation fits one
# Telegram message of 4096 characters, and goes in two of this.
PART = 1500


def test_a_dispatcher_killed_between_the_parts_of_a_message_does_not_repeat_them(
    database_url: str,
) -> None:
    """SIGKILL after the first part of the Secretary's escalation went out, while the
    second hangs: the part sent was recorded as it went, so the dispatcher that takes the
    rows over after the lease sends only the rest."""
    seed_roster(database_url)
    chat = link_everyone(database_url)[SECRETARY]
    with FakeBotAPI(hang_after=1) as api:
        environ = telegram_environ(database_url, api)
        service = Service(load_config(None, environ=environ), lambda: MARCH_3)
        service.channels["telegram"].max_length = PART  # type: ignore[attr-defined]
        _, _, notices = service.planned(MARCH_3)
        mine = [n for n in notices if n.recipient == SECRETARY]
        with service.db.write() as session:
            outbox.enqueue(session, mine, MARCH_3)  # the escalation alone: one message
            contacts = contacts_of(session, mine)
        (message,) = [o.message for o in service.dispatcher.compose(mine, contacts)]
        parts = split(message.html, PART)
        assert len(parts) >= 2
        env = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")} | environ
        code = [sys.executable, "-c", DISPATCH_ONCE, MARCH_3.isoformat(), str(PART)]
        first = subprocess.Popen(code, env=env, stderr=subprocess.PIPE)
        table = models.Outbox
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not api.sent:
            time.sleep(0.05)
        # Well before the client gives up on the hanging part (its 5 s read timeout), which
        # would report the failure, and the part sent with it, the ordinary way.
        recorded: set[str] = set()
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and not recorded:
            with service.db.read() as session:
                recorded = set(session.scalars(select(table.delivered_parts))) - {""}
            time.sleep(0.05)
        assert api.texts(chat) == parts[:1] and len(recorded) == 1  # the same on every row
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        api.hang_after = None
        service.dispatch(MARCH_3 + LEASE + timedelta(minutes=1))
        assert api.texts(chat) == parts  # each part once, in order
        with service.db.read() as session:
            assert set(session.scalars(select(table.state))) == {"sent"}
        service.db.engine.dispose()


def test_outside_the_sending_window_messages_wait_for_the_next_opening(
    database_url: str, api: FakeBotAPI
) -> None:
    seed_roster(database_url)
    link_everyone(database_url)
    friday_evening = datetime(2025, 3, 7, 18, 0, tzinfo=WITA)
    config = load_config(None, environ=telegram_environ(database_url, api))
    service = Service(config, lambda: friday_evening)
    planned = service.tick()
    assert planned and api.sent == []
    with service.db.read() as session:
        pending = session.scalar(
            select(func.count()).where(models.Outbox.state == "pending").select_from(models.Outbox)
        )
    assert pending == len(planned) + 1  # deferred, not dropped (and the week's digest)
    assert service.dispatch(datetime(2025, 3, 8, 10, 0, tzinfo=WITA)) == 0  # Saturday
    assert service.dispatch(datetime(2025, 3, 10, 7, 30, tzinfo=WITA)) == len(planned) + 1
    greeted = [s for s in api.sent if s.text.startswith("Yth. ")]
    assert len(greeted) == len({n.recipient for n in planned})


def test_send_test_reaches_the_bot_and_never_prints_the_token(
    tmp_path: Path, api: FakeBotAPI
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
    env |= telegram_environ(f"sqlite:///{tmp_path / 't.db'}", api)
    run = [TENGGAT, "send-test", "--channel", "telegram", "--to"]
    ok = subprocess.run([*run, "4242"], env=env, capture_output=True, text=True, timeout=60)
    api.always(77, NOT_FOUND)
    bad = subprocess.run([*run, "77"], env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "terkirim lewat telegram: telegram:4242:1" in ok.stdout
    assert api.texts(4242) == ["Pesan uji dari Tenggat: saluran ini siap dipakai."]
    assert bad.returncode == 1 and "tidak terkirim (permanen)" in bad.stderr
    for output in (ok.stdout, ok.stderr, bad.stdout, bad.stderr):
        assert TOKEN not in output and TOKEN.split(":")[1] not in output


def test_a_dispatcher_killed_mid_batch_loses_nothing_and_repeats_nothing(
    database_url: str,
) -> None:
    """SIGKILL while the server has stopped answering: what it acknowledged is recorded as
    sent; what was in flight is claimed again after the lease and sent once.  (The Secretary
    reads the console here; a kill between the parts of one message has a test of its own.)"""
    seed_roster(database_url)
    chats = link_everyone(database_url, but=SECRETARY)
    with FakeBotAPI(hang_after=20) as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
        env |= telegram_environ(database_url, api)
        run = [TENGGAT, "run", "--once", "--as-of"]
        first = subprocess.Popen([*run, "2025-03-03 09:00"], env=env, stderr=subprocess.PIPE)
        database = Database(database_url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the answered messages are recorded
            with database.read() as session:
                sent = session.scalar(
                    select(func.count(func.distinct(models.Outbox.recipient))).where(
                        models.Outbox.state == "sent"
                    )
                )
            if len(api.sent) == 20 and sent == 20 + 1:  # and the Secretary's, on the console
                break
            time.sleep(0.1)
        assert len(api.sent) == 20 and sent == 20 + 1
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        api.hang_after = None
        later = (MARCH_3 + LEASE + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
        second = subprocess.run([*run, later], env=env, capture_output=True, timeout=120)
        assert second.returncode == 0, second.stderr
        with database.read() as session:
            states = Counter(session.scalars(select(models.Outbox.state)))
            recipients = set(session.scalars(select(models.Outbox.recipient)))
        database.engine.dispose()
        assert set(states) == {"sent"}
        received = Counter(s.chat_id for s in api.sent)
        linked = recipients - {SECRETARY}
        assert received == Counter(chats[r] for r in linked)  # each once, none lost
