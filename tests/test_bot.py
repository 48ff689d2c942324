"""The two-way bot over the fake Bot API: scripted updates in through ``getUpdates``, replies
asserted at the fake, effects asserted in the database.  Bad input gets a polite answer in
Bahasa Indonesia and changes nothing but the audit trail and the acknowledged offset."""

from __future__ import annotations

import csv
import io
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from click.testing import CliRunner
from conftest import PASSWORD, Inbox, dump_tables
from fake_telegram import (
    SERVER_ERROR,
    FakeBotAPI,
    callback,
    document_message,
    forwarded,
    photo_message,
    sticker_message,
    text_message,
)
from sqlalchemy import select
from test_service import MARCH_3, SECRETARY, TENGGAT, environment, seed_roster
from test_telegram import STAFF, telegram_environ

from notifications.console import ConsoleChannel
from rules.plan import Notice, NoticeKind
from scheduler.bot import conversation as bot
from scheduler.bot import poller as bot_poller
from scheduler.bot import records as bot_records
from scheduler.bot.words import WORDS
from scheduler.config import Config, load_config
from scheduler.service.lock import SchedulerLock
from scheduler.service.tick import Leadership, Service
from scheduler.store import models, state, submissions
from scheduler.store.db import Database
from scheduler.words import period_name

CARRIER = "197402022000121007"  # ERSIYANUSSALIM: carries EPANTAU (needs verification)
HEAD = "196905221997031004"  # Drs. ZUKIPLI: head of Bidang Ideologi dan Wawasan Kebangsaan
NOW = MARCH_3
CHAT = 500  # STAFF's chat once linked
UNLINKED = 777


class Harness:
    """A seeded database, the fake Bot API and a poller between them."""

    def __init__(self, url: str, api: FakeBotAPI, language: str = "id", **env: str) -> None:
        self.api = api
        environ = telegram_environ(url, api) | {"TENGGAT_SERVICE_LANGUAGE": language} | env
        self.config: Config = load_config(None, environ=environ)
        self.db = Database(url)
        self.now = NOW
        self.poller = bot_poller.Poller(self.config, self.db, lambda: self.now)
        self.poller.open()

    def close(self) -> None:
        self.poller.close()
        self.db.engine.dispose()

    def send(self, *updates: dict[str, Any]) -> list[int]:
        """Push updates and poll until every one is handled."""
        ids = self.api.push(*updates)
        handled = 0
        while handled < len(ids):
            handled += self.poller.poll_once(self.now, timeout=0)
        return ids

    def code_for(self, key: str, now: datetime | None = None, hours: int = 72) -> str:
        with self.db.write() as session:
            employee = session.scalars(select(models.Employee).filter_by(key=key)).one()
            return bot_records.issue_code(session, employee, now or self.now, hours, "test").code

    def link(self, key: str, chat: int) -> None:
        self.send(text_message(chat, f"/start {self.code_for(key)}"))

    def employee(self, key: str) -> models.Employee:
        with self.db.read() as session:
            return session.scalars(select(models.Employee).filter_by(key=key)).one()

    def submissions(self) -> list[models.Submission]:
        with self.db.read() as session:
            return list(session.scalars(select(models.Submission).order_by(models.Submission.id)))

    def audit(self) -> list[tuple[str | None, str, str]]:
        with self.db.read() as session:
            rows = session.scalars(select(models.BotAudit).order_by(models.BotAudit.id))
            return [(r.chat_id, r.action, r.detail) for r in rows if r.chat_id is not None]

    def texts(self, chat: int) -> list[str]:
        return self.api.texts(chat)

    def tick(self) -> list[Notice]:
        """One tick of the service over the same database and Bot API: the reminders go
        to the linked chats; the others' land on a console nobody reads."""
        service = Service(self.config, lambda: self.now, self.db)
        service.channels["console"] = ConsoleChannel(io.StringIO())
        return service.tick()

    def buttons(self, chat: int) -> list[tuple[str, str]]:
        """The inline buttons of the last message to ``chat``: (label, callback data)."""
        return [s for s in self.api.sent if s.chat_id == str(chat)][-1].buttons()


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as fake:
        yield fake


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled IKI imported once; each test gets a copy."""
    path = tmp_path_factory.mktemp("seed") / "seed.db"
    seed_roster(f"sqlite:///{path}")
    return path


@pytest.fixture
def harness(tmp_path: Path, api: FakeBotAPI, seeded_file: Path) -> Iterator[Harness]:
    copy = tmp_path / "tenggat.db"
    shutil.copyfile(seeded_file, copy)  # no -wal: the seeding engine was disposed
    found = Harness(f"sqlite:///{copy}", api)
    yield found
    found.close()


@pytest.fixture
def english(tmp_path: Path, api: FakeBotAPI, seeded_file: Path) -> Iterator[Harness]:
    """The same with ``language = "en"`` in ``[service]``."""
    copy = tmp_path / "tenggat.db"
    shutil.copyfile(seeded_file, copy)
    found = Harness(f"sqlite:///{copy}", api, language="en")
    yield found
    found.close()


@pytest.fixture
def both(database_url: str, api: FakeBotAPI) -> Iterator[Harness]:
    """The same on each database backend."""
    seed_roster(database_url)
    found = Harness(database_url, api)
    yield found
    found.close()


def test_link_status_report_with_a_document_and_the_receipt(both: Harness) -> None:
    h = both
    h.link(STAFF, CHAT)
    assert h.employee(STAFF).telegram_chat_id == str(CHAT)
    assert "Halo, YANTI HEIDA YANI! Chat ini sekarang terhubung dengan NIP" in h.texts(CHAT)[-1]

    h.send(text_message(CHAT, "/status"))
    status = h.texts(CHAT)[-1]
    assert "<b>Kewajiban YANTI HEIDA YANI</b> per Senin, 3 Maret 2025:" in status
    assert "Sasaran Kinerja Pegawai (SKP) Tahun 2025: Lewat batas waktu (3 hari)" in status
    assert "Ketepatan waktu penyampaian tahun ini:" in status

    h.send(text_message(CHAT, "/lapor"))
    assert ("SKP 2025", "lapor:SKP:2025") in h.buttons(CHAT)
    h.send(callback(CHAT, "lapor:SKP:2025", query_id="q-skp"))
    assert [a["callback_query_id"] for a in h.api.answered] == ["q-skp"]
    assert "Lapor <b>Sasaran Kinerja Pegawai (SKP) Tahun 2025</b>" in h.texts(CHAT)[-1]
    assert ("Kirim tanpa bukti", "lapor:-") in h.buttons(CHAT)

    h.now = NOW + timedelta(minutes=5)
    (last,) = h.send(document_message(CHAT, "BQACAgUAAxk-skp", "SKP 2025.pdf", "ttd kepala"))
    (row,) = h.submissions()
    assert (row.rule_code, row.period, row.source) == ("SKP", "2025", "telegram")
    assert row.recorded_by == f"telegram:{CHAT}" and row.employee_id == h.employee(STAFF).id
    assert row.evidence == "telegram-document:BQACAgUAAxk-skp SKP 2025.pdf — ttd kepala"
    assert row.submitted_at == NOW + timedelta(minutes=5)
    receipt = h.texts(CHAT)[-1]
    assert receipt.startswith(f"✅ <b>Tanda terima No. {row.id}</b>")
    assert "Dicatat: Senin, 3 Maret 2025 pukul 09.05 WITA" in receipt
    assert "Bukti: dokumen SKP 2025.pdf" in receipt
    assert "Status: Disampaikan terlambat 3 hari (batas waktu Jumat, 28 Februari 2025)" in receipt

    actions = [action for chat, action, _ in h.audit() if chat == str(CHAT)]
    assert actions == ["link", "status", "report_pick", "report_start", "report"]
    with h.db.read() as session:
        stored = session.get(models.ServiceState, state.TELEGRAM_OFFSET)
        assert stored is not None and stored.value == str(last)
        assert session.get(models.BotChat, str(CHAT)) is None  # the conversation is over
    h.poller.poll_once(h.now, timeout=0)
    assert h.api.confirmed == last + 1  # acknowledged only now, after the commit
    assert h.api.served == sorted(set(h.api.served))  # nothing was served twice


def test_a_photo_as_evidence_keeps_the_largest_file_reference(harness: Harness) -> None:
    h = harness
    h.link(STAFF, CHAT)
    h.send(text_message(CHAT, "/lapor SPT 2024"), photo_message(CHAT, "AgACAgUAAxk-bukti"))
    (row,) = h.submissions()
    assert (row.rule_code, row.period, row.evidence) == (
        "SPT",
        "2024",
        "telegram-photo:AgACAgUAAxk-bukti",
    )
    assert "Bukti: foto" in h.texts(CHAT)[-1]


def test_a_report_without_evidence_keeps_the_earlier_evidence(both: Harness) -> None:
    """ "Kirim tanpa bukti" after a report with evidence: the new record carries it over, and
    the receipt says whose it is."""
    h = both
    h.link(STAFF, CHAT)
    h.send(text_message(CHAT, "/lapor SKP 2025"), text_message(CHAT, "BKPSDM/SKP/0042"))
    h.now = NOW + timedelta(minutes=5)
    h.send(text_message(CHAT, "/lapor SKP 2025"), callback(CHAT, "lapor:-"))
    first, second = h.submissions()
    assert (first.evidence, second.evidence) == ("BKPSDM/SKP/0042", "BKPSDM/SKP/0042")
    assert second.submitted_at == NOW + timedelta(minutes=5)
    receipt = h.texts(CHAT)[-1]
    assert f"Tanda terima No. {second.id}" in receipt
    assert "Bukti: BKPSDM/SKP/0042 (bukti laporan sebelumnya)" in receipt


# ---- the "Sudah lapor" button of a reminder ----------------------------------------------


def test_pressing_sudah_lapor_under_a_reminder_reports_that_item(harness: Harness) -> None:
    h = harness
    h.link(STAFF, CHAT)
    before = len(h.api.sent)
    h.tick()
    (reminder,) = h.api.sent[before:]  # no one else has a chat
    assert reminder.text.startswith("Yth. Ibu YANTI HEIDA YANI\n")
    skp = "Sasaran Kinerja Pegawai (SKP) Tahun 2025: belum disampaikan, lewat 3 hari"
    assert skp in reminder.text
    assert h.buttons(CHAT) == [("✅ Sudah lapor SKP Tahun 2025", "lapor:SKP:2025")]

    h.send(callback(CHAT, "lapor:SKP:2025"))  # the press, as getUpdates serves it
    assert h.audit()[-1] == (str(CHAT), "report_start", "SKP 2025")
    assert "Lapor <b>Sasaran Kinerja Pegawai (SKP) Tahun 2025</b>" in h.texts(CHAT)[-1]
    h.now = NOW + timedelta(minutes=5)
    h.send(text_message(CHAT, "BKPSDM/SKP/0042"))
    (row,) = h.submissions()
    assert (row.rule_code, row.period, row.evidence) == ("SKP", "2025", "BKPSDM/SKP/0042")
    assert (row.employee_id, row.source) == (h.employee(STAFF).id, "telegram")
    receipt = h.texts(CHAT)[-1]
    assert receipt.startswith(f"✅ <b>Tanda terima No. {row.id}</b>\nSasaran Kinerja Pegawai")
    assert "Status: Disampaikan terlambat 3 hari (batas waktu Jumat, 28 Februari 2025)" in receipt


def test_a_long_reminder_has_a_button_per_own_item_under_its_last_part(harness: Harness) -> None:
    """The Secretary's message (in parts where it is long: tests/test_telegram.py splits
    one): the buttons, one for each of his own items (eight at most, not his staff's), go
    under the last part."""
    h = harness
    h.link(SECRETARY, 600)
    notices = h.tick()

    def named(code: str, period: str) -> str:
        return period_name(h.config.catalog.rules[code], period, "id")

    owed = {
        (f"✅ Sudah lapor {n.rule} {named(n.rule, n.period)}", f"lapor:{n.rule}:{n.period}")
        for n in notices
        if n.recipient == SECRETARY and n.kind is not NoticeKind.ESCALATION
    }
    with h.db.read() as session:  # "telegram:600:<the message id of each part>"
        (receipt,) = set(
            session.scalars(
                select(models.Outbox.receipt).where(
                    models.Outbox.recipient == SECRETARY, models.Outbox.kind != "digest"
                )
            )
        )
    parts = [h.api.sent[int(i) - 1] for i in str(receipt).split(":")[2].split(",")]
    assert parts and parts[0].text.startswith("Yth. Bapak SUTRISNO")
    assert [bool(part.reply_markup) for part in parts] == [False] * (len(parts) - 1) + [True]
    buttons = parts[-1].buttons()
    assert len(owed) > 8 and len(set(buttons)) == 8 and set(buttons) <= owed


def test_an_escalation_has_no_buttons_for_the_staffs_items(harness: Harness) -> None:
    """A unit head who owes nothing himself is told of his staff's SKP: only they may
    report it, so his message has no button."""
    h = harness
    h.link(HEAD, 602)
    with h.db.write() as session:  # he has handed in all of his own
        head = session.scalars(select(models.Employee).filter_by(key=HEAD)).one()
        for owed in ("EPANTAU 2025-01", "EPANTAU 2025-02", "SERAPAN 2025-01", "SERAPAN 2025-02"):
            code, period = owed.split()
            value = 95.0 if code == "SERAPAN" else None  # a measure is settled by its value
            submissions.add(
                session, head.id, code, period, NOW, NOW, "test", verified=True, value=value
            )
        submissions.add(session, head.id, "SKP", "2025", NOW, NOW, "test")
    notices = h.tick()
    assert {n.kind for n in notices if n.recipient == HEAD} == {NoticeKind.ESCALATION}
    told = h.api.sent[-1]
    assert told.chat_id == "602" and told.text.startswith("Yth. Bapak Drs. ZUKIPLI")
    assert "Kewajiban bawahan Bapak berikut belum disampaikan" in told.text
    assert told.reply_markup is None


# ---- unlinking one's own chat, English -------------------------------------------------


def test_an_employee_unlinks_their_own_chat_after_confirming(harness: Harness) -> None:
    h = harness
    h.link(STAFF, CHAT)
    h.send(text_message(CHAT, "/bantuan"))
    assert "/putus — putuskan chat ini dari data Anda" in h.texts(CHAT)[-1]
    h.send(text_message(CHAT, "/putus"))
    assert h.texts(CHAT)[-1].startswith(
        f"Putuskan chat ini dari data YANTI HEIDA YANI (NIP {STAFF})?"
    )
    assert h.buttons(CHAT) == [("Ya, putuskan", f"putus:{STAFF}"), ("Batal", "putus:-")]
    h.send(callback(CHAT, "putus:-"))
    assert h.texts(CHAT)[-1] == "Baik, chat ini tetap terhubung."
    h.send(callback(CHAT, f"putus:{SECRETARY}"))  # a button that is not this employee's
    assert h.texts(CHAT)[-1] == "Tombol ini sudah tidak berlaku."
    assert h.employee(STAFF).telegram_chat_id == str(CHAT)

    h.send(callback(CHAT, f"putus:{STAFF}"))
    assert h.texts(CHAT)[-1].startswith(f"Chat ini sudah tidak terhubung dengan NIP {STAFF}.")
    assert h.employee(STAFF).telegram_chat_id is None
    with h.db.read() as session:
        last = session.scalars(select(models.BotAudit).order_by(models.BotAudit.id.desc())).first()
        assert last is not None and last.employee_id == h.employee(STAFF).id
        assert (last.chat_id, last.action, last.detail) == (str(CHAT), "unlink", "by the employee")
    h.send(text_message(CHAT, "/status"), text_message(CHAT, "halo"))
    assert all(t.startswith("Chat ini belum terhubung") for t in h.texts(CHAT)[-2:])
    before = len(h.api.sent)
    h.tick()  # the reminders now go elsewhere
    assert len(h.api.sent) == before


def test_the_bot_speaks_english_where_the_service_does(english: Harness) -> None:
    h = english
    h.link(STAFF, CHAT)
    assert h.texts(CHAT)[-1].startswith("Hello, YANTI HEIDA YANI! This chat is now linked")
    h.send(text_message(CHAT, "/bantuan"))
    assert h.texts(CHAT)[-1].startswith("Commands:\n/status — your open obligations")
    assert "/putus — unlink this chat from you" in h.texts(CHAT)[-1]
    h.tick()
    assert h.buttons(CHAT) == [("✅ Reported SKP year 2025", "lapor:SKP:2025")]
    h.send(callback(CHAT, "lapor:SKP:2025"))
    assert "Report <b>Employee performance targets (SKP) year 2025</b>" in h.texts(CHAT)[-1]
    assert h.buttons(CHAT) == [("Send without evidence", "lapor:-"), ("Cancel", "batal")]
    h.send(text_message(CHAT, "/unlink"))  # the English name of /putus
    assert h.texts(CHAT)[-1].startswith("Unlink this chat from YANTI HEIDA YANI")


def test_every_reply_exists_in_both_languages_with_the_same_fields() -> None:
    import string

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    assert WORDS["id"].keys() == WORDS["en"].keys()
    assert all(fields(WORDS["id"][k]) == fields(WORDS["en"][k]) for k in WORDS["id"])


def test_verification_by_an_admin_in_the_bot_and_in_the_cli(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    h.link(CARRIER, 601)
    h.link(SECRETARY, 600)  # no one has the admin role: the Secretary administers
    h.send(text_message(601, "/lapor EPANTAU 2025-02"), text_message(601, "BA-0123/e-Pantau"))
    assert (
        "Status: Disampaikan terlambat 21 hari (batas waktu Senin, 10 Februari 2025); "
        "menunggu verifikasi atasan" in h.texts(601)[-1]
    )
    (pending,) = h.submissions()
    assert pending.verified_at is None

    h.send(text_message(601, "/verifikasi"))
    assert h.texts(601)[-1] == "Maaf, perintah ini hanya untuk admin."
    h.send(text_message(600, "/verifikasi"))
    assert "ERSIYANUSSALIM: EPANTAU 2025-02" in h.texts(600)[-1]
    assert h.buttons(600) == [("✓ EPANTAU 2025-02 — ERSIYANUSSALIM", f"verif:{pending.id}")]
    h.send(callback(601, f"verif:{pending.id}"))  # the reporter presses a forwarded button
    assert len(h.submissions()) == 1
    h.send(callback(600, f"verif:{pending.id}"))
    assert h.texts(600)[-1] == "Diverifikasi: ERSIYANUSSALIM, EPANTAU Februari 2025."
    assert "telah diverifikasi" in h.texts(601)[-1]
    first, verified = h.submissions()
    assert verified.verified_by == "telegram:600" and verified.evidence == first.evidence
    assert verified.submitted_at == first.submitted_at
    h.send(callback(600, f"verif:{pending.id}"))  # pressed again: nothing more
    assert len(h.submissions()) == 2 and "sudah diverifikasi" in h.texts(600)[-1]

    from scheduler.cli.main import cli

    h.send(text_message(601, "/lapor EPANTAU 2025-01"), text_message(601, "BA-0099"))
    monkeypatch.setenv("TENGGAT_DATABASE_URL", str(h.db.url))
    monkeypatch.delenv("TENGGAT_TELEGRAM_TOKEN", raising=False)
    run = CliRunner().invoke(cli, ["verify", CARRIER, "EPANTAU", "2025-01"])
    assert run.exit_code == 0, run.output
    assert "EPANTAU 2025-01: ERSIYANUSSALIM" in run.output and "terverifikasi" in run.output
    again = CliRunner().invoke(cli, ["--lang", "en", "verify", CARRIER, "EPANTAU", "2025-01"])
    assert again.exit_code == 1 and "already verified" in again.output
    assert h.submissions()[-1].verified_at is not None


def test_rekap_for_the_secretary_and_a_unit_head_not_for_staff(harness: Harness) -> None:
    h = harness
    h.link(SECRETARY, 600)
    h.link(HEAD, 602)
    h.link(STAFF, CHAT)
    first = len(h.texts(600))
    h.send(text_message(600, "/rekap"), text_message(602, "/rekap"), text_message(CHAT, "/rekap"))
    agency, unit = "\n".join(h.texts(600)[first:]), h.texts(602)[-1]
    assert unit.startswith("Ringkasan mingguan kepatuhan IKI\nBidang Ideologi dan Wawasan")
    assert len(h.texts(600)[first:]) == 2 and all(len(t) <= 4096 for t in h.texts(600))
    assert "Sekretariat" in agency and "Sekretariat" not in unit
    assert h.texts(CHAT)[-1] == "Maaf, perintah ini hanya untuk Sekretaris dan kepala unit."
    assert "/rekap" in h.texts(600)[0] and "/rekap" not in h.texts(CHAT)[0]  # help fits the role


# ---- bad input: a polite answer, nothing recorded -------------------------------------

EMOJI = "🙏🔥👍🏽 ✅"
RTL = "مرحبا، أريد الإبلاغ عن SKP"

CORPUS: list[tuple[str, Any, str]] = [
    (
        "unknown command",
        lambda h: text_message(CHAT, "/hapus semua"),
        "Maaf, perintah /hapus tidak dikenal",
    ),
    (
        "unknown rule",
        lambda h: text_message(CHAT, "/lapor XYZ 2025"),
        "kode kewajiban 'XYZ' tidak dikenal",
    ),
    (
        "impossible month",
        lambda h: text_message(CHAT, "/lapor SKP 2025-13"),
        "periode '2025-13' tidak cocok untuk SKP",
    ),
    (
        "far future",
        lambda h: text_message(CHAT, "/lapor SKP 2099"),
        "periode 2099 tidak mungkin dilaporkan",
    ),
    (
        "the year it is due in, for the year it is about",
        lambda h: text_message(CHAT, "/lapor SPT 2025"),
        "SPT 2025 batas waktunya 31 Maret 2026; maksud Anda SPT 2024?",
    ),
    (
        "someone else's",
        lambda h: text_message(CHAT, f"/lapor SKP 2025 {SECRETARY}"),
        "Ketik <code>/lapor KODE PERIODE</code>",
    ),
    (
        "not carried",
        lambda h: callback(CHAT, "lapor:LKJP:2025"),
        "LKJP tidak termasuk kewajiban Anda",
    ),
    (
        "stale button",
        lambda h: callback(CHAT, "verif:999999"),
        "Maaf, perintah ini hanya untuk admin.",
    ),
    (
        "unknown code",
        lambda h: text_message(UNLINKED, "/start AAAAAAAAAAAAAAAAAAAAAA"),
        "kode pendaftaran itu tidak dikenal",
    ),
    (
        "expired code",
        lambda h: text_message(UNLINKED, "/start " + h.code_for(HEAD, NOW - timedelta(hours=80))),
        "sudah kedaluwarsa",
    ),
    (
        "garbage code",
        lambda h: text_message(UNLINKED, "/start ' OR 1=1 --"),
        "kode pendaftaran itu tidak dikenal",
    ),
    ("unlinked text", lambda h: text_message(UNLINKED, "halo"), "Chat ini belum terhubung"),
    (
        "unlinked command",
        lambda h: text_message(UNLINKED, "/lapor SKP 2025"),
        "Chat ini belum terhubung",
    ),
    ("unlinked button", lambda h: callback(UNLINKED, "lapor:SKP:2025"), "Chat ini belum terhubung"),
    ("forwarded", lambda h: forwarded(CHAT, "/lapor SKP 2025"), "pesan terusan tidak diproses"),
    ("10,000 characters", lambda h: text_message(CHAT, "a" * 10_000), "terlalu panjang"),
    ("emoji", lambda h: text_message(CHAT, EMOJI), "saya tidak memahami pesan itu"),
    ("right-to-left", lambda h: text_message(CHAT, RTL), "saya tidak memahami pesan itu"),
    (
        "control characters",
        lambda h: text_message(CHAT, "\x00\x07\u202e"),
        "saya tidak memahami pesan itu",
    ),
    ("sticker", lambda h: sticker_message(CHAT), "saya tidak memahami pesan itu"),
    (
        "digest for staff",
        lambda h: text_message(CHAT, "/rekap"),
        "hanya untuk Sekretaris dan kepala unit",
    ),
    (
        "cancel nothing",
        lambda h: text_message(CHAT, "/batal"),
        "Tidak ada laporan yang sedang diisi",
    ),
]


def _changed(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


@pytest.mark.parametrize(("case", "make", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_input_gets_a_polite_answer_and_records_nothing(
    harness: Harness, case: str, make: Any, expected: str
) -> None:
    h = harness
    h.link(STAFF, CHAT)
    update = make(h)  # may issue a code: part of the state before
    before = dump_tables(h.db.engine)
    sent = len(h.api.sent)
    h.send(update)
    after = dump_tables(h.db.engine)
    assert _changed(before, after) == {"bot_audit", "service_state"}  # the trail, the offset
    (reply,) = [s.text for s in h.api.sent[sent:]]
    assert expected in reply
    assert reply.startswith(("Maaf", "Chat ini", "Ketik", "Tidak ada"))
    assert h.audit()[-1][1] not in ("report", "link", "verify")


def test_a_reused_code_and_a_group_chat(harness: Harness) -> None:
    h = harness
    code = h.code_for(STAFF)
    h.send(text_message(CHAT, f"/start {code}"))
    before = dump_tables(h.db.engine)
    h.send(text_message(UNLINKED, f"/start {code}"))
    assert "sudah pernah dipakai" in h.texts(UNLINKED)[-1]
    h.send(text_message(-100123, "/status", chat_type="group"))  # not configured: ignored
    assert h.texts(-100123) == []
    assert _changed(before, dump_tables(h.db.engine)) == {"bot_audit", "service_state"}
    assert h.employee(STAFF).telegram_chat_id == str(CHAT)


def test_long_evidence_is_refused_and_the_report_stays_open(harness: Harness) -> None:
    h = harness
    h.link(STAFF, CHAT)
    h.send(text_message(CHAT, "/lapor SKP 2025"))
    h.send(text_message(CHAT, "x" * 2_000), sticker_message(CHAT))
    assert "bukti teks paling banyak 1000 karakter" in h.texts(CHAT)[-2]
    assert "jenis pesan itu tidak didukung" in h.texts(CHAT)[-1]
    assert h.submissions() == []
    h.send(text_message(CHAT, "/batal"), text_message(CHAT, "BA-1"))
    assert h.submissions() == [] and "dibatalkan" in h.texts(CHAT)[-2]


def test_evidence_is_held_to_what_the_column_takes_whatever_the_setting(
    tmp_path: Path, api: FakeBotAPI, seeded_file: Path
) -> None:
    """``[bot] max_evidence`` above the evidence column's limit (models.NOTE_CHARS) is held
    to that limit where the bot applies it: the message says so, and nothing is cut."""
    copy = tmp_path / "tenggat.db"
    shutil.copyfile(seeded_file, copy)
    h = Harness(f"sqlite:///{copy}", api, TENGGAT_BOT_MAX_EVIDENCE="5000")
    try:
        h.link(STAFF, CHAT)
        h.send(text_message(CHAT, "/lapor SKP 2025"))
        h.send(text_message(CHAT, "x" * (models.NOTE_CHARS + 1)))
        assert f"bukti teks paling banyak {models.NOTE_CHARS} karakter" in h.texts(CHAT)[-1]
        h.send(text_message(CHAT, "y" * models.NOTE_CHARS))
        assert [row.evidence for row in h.submissions()] == ["y" * models.NOTE_CHARS]
    finally:
        h.close()


def test_a_flooding_chat_is_throttled_once_then_ignored(harness: Harness) -> None:
    h = harness
    h.link(STAFF, CHAT)  # one audited update
    h.send(*[text_message(CHAT, "/bantuan") for _ in range(25)])
    texts = h.texts(CHAT)[1:]
    assert len(texts) == 20  # 19 answers, one warning, then silence
    assert texts[-1].startswith("Terlalu banyak pesan")
    assert [a for _, a, _ in h.audit()].count("throttled") == 6
    h.now = NOW + timedelta(minutes=2)
    h.send(text_message(CHAT, "/bantuan"))
    assert h.texts(CHAT)[-1].startswith("Perintah yang tersedia")


def test_a_strangers_flood_leaves_a_bounded_audit_a_linked_chats_is_all_kept(
    both: Harness,
) -> None:
    """An unlinked chat leaves at most flood_count + 1 rows per flood_seconds (20 + 1 a
    minute by default), however much it sends; a linked chat's every update is kept."""
    h = both
    h.link(STAFF, CHAT)
    bound = h.config.settings.bot.flood_count + 1
    h.send(*[text_message(UNLINKED, "/bantuan") for _ in range(150)])
    h.send(*[text_message(-100123, "/status", chat_type="group") for _ in range(50)])
    h.send(*[text_message(CHAT, "/bantuan") for _ in range(40)])
    chats = [chat for chat, _, _ in h.audit()]
    assert chats.count(str(UNLINKED)) == bound and chats.count("-100123") == bound
    assert chats.count(str(CHAT)) == 41  # the link and each of the 40
    assert len(h.texts(UNLINKED)) == bound  # as before: 20 answered, then told once
    h.now = NOW + timedelta(minutes=2)  # a new window: the stranger is answered again
    h.send(*[text_message(UNLINKED, "/bantuan") for _ in range(30)])
    assert [chat for chat, _, _ in h.audit()].count(str(UNLINKED)) == 2 * bound
    h.now = NOW


# ---- polling: outages, restarts, a bad update ------------------------------------------


def test_polling_survives_an_outage_and_restarts_without_repeats(harness: Harness) -> None:
    h = harness
    h.link(STAFF, CHAT)
    h.api.fail_updates(SERVER_ERROR, (502, "Bad Gateway"))
    stop = threading.Event()
    runner = bot_poller.Poller(h.config, h.db, lambda: h.now)
    thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    thread.start()
    ids = h.api.push(*[text_message(CHAT, "/status") for _ in range(3)])
    deadline = time.monotonic() + 30
    while len(h.texts(CHAT)) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(h.texts(CHAT)) == 4  # after two failed polls, each update answered once
    # A new process (the poller restarted) resumes from the stored offset: nothing again.
    restarted = bot_poller.Poller(h.config, h.db, lambda: h.now)
    with restarted:
        assert restarted.poll_once(h.now, timeout=0) == 0
    assert h.api.confirmed == ids[-1] + 1
    statuses = [a for c, a, _ in h.audit() if a == "status"]
    assert len(statuses) == 3


def test_an_update_that_fails_is_answered_skipped_and_audited(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    h.link(STAFF, CHAT)
    real = bot.handle

    def flaky(session: Any, update: dict[str, Any], now: datetime, config: Config) -> Any:
        if (update.get("message") or {}).get("text") == "/status":
            session.add(models.Exemption(employee_id=1, rule_code="SKP", period="2025"))
            raise RuntimeError("boom")
        return real(session, update, now, config)

    monkeypatch.setattr(bot_poller, "handle", flaky)
    h.send(text_message(CHAT, "/status"), text_message(CHAT, "/bantuan"))
    assert h.texts(CHAT)[-2].startswith("Maaf, terjadi kesalahan")
    assert h.texts(CHAT)[-1].startswith("Perintah yang tersedia")
    with h.db.read() as session:
        assert session.scalars(select(models.Exemption)).all() == []  # rolled back
    assert ("error" in [a for _, a, _ in h.audit()]) and "boom" in h.audit()[-2][2]


def test_an_update_handled_twice_is_skipped(harness: Harness) -> None:
    """A crash after the commit but before the next getUpdates: Telegram serves it again."""
    h = harness
    h.link(STAFF, CHAT)
    update = {"update_id": 9999, **text_message(CHAT, "/lapor SKP 2025")}
    assert h.poller.handle_update(update, h.now)
    assert h.poller.handle_update(update, h.now) == []
    assert [a for _, a, _ in h.audit()].count("report_start") == 1


# ---- one poller: the holder of the scheduler lock ---------------------------------------


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def take_away(lock: SchedulerLock) -> None:
    """Make ``lock`` lost, as a deleted lock file or a dropped connection would."""
    if lock.path is not None:
        lock.path.unlink()
        return
    holder = lock.holder()
    assert holder is not None
    engine = sqlalchemy.create_engine(lock.url)
    with engine.begin() as connection:
        connection.execute(
            sqlalchemy.text("SELECT pg_terminate_backend(:pid)"), {"pid": holder.backend}
        )
    engine.dispose()


def test_polling_follows_the_scheduler_lock(database_url: str, api: FakeBotAPI) -> None:
    """Telegram answers a second poller of a bot with 409 Conflict: a standby polls only
    from the tick that takes the lock over, and stops as soon as it finds the lock lost."""
    db = Database(database_url)
    db.migrate()
    config = load_config(None, environ=telegram_environ(database_url, api))
    other = SchedulerLock(database_url, lambda: NOW)
    lead = Leadership(
        SchedulerLock(db, lambda: NOW), lambda: bot_poller.start(config, db, lambda: NOW)
    )
    try:
        assert other.try_acquire()
        assert not lead.check() and not lead.check()  # standing by, tick after tick
        assert (api.calls["getMe"], api.calls["getUpdates"]) == (0, 0)
        other.release()
        assert lead.check()  # the tick that takes over
        wait_for(lambda: api.calls["getUpdates"] >= 2)
        take_away(lead.lock)
        assert other.try_acquire()
        assert not lead.check()  # found lost: the poll under way ends, no other begins
        polled = api.calls["getUpdates"]
        time.sleep(1.5)  # longer than the fake's longest poll
        assert api.calls["getUpdates"] == polled
    finally:
        lead.release()
        other.release()
        db.engine.dispose()


def test_a_refused_second_run_never_polls(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tenggat.db'}"
    with FakeBotAPI() as first_api, FakeBotAPI() as second_api:
        first = subprocess.Popen(
            [TENGGAT, "run"], cwd=tmp_path, env=environment(url) | telegram_environ(url, first_api),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            wait_for(lambda: first_api.calls["getUpdates"] >= 1, 60)
            env = environment(url) | telegram_environ(url, second_api)
            second = subprocess.run(
                [TENGGAT, "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
            )
            assert second.returncode == 2 and "tenggat run lain sudah berjalan" in second.stderr
            assert second_api.calls == {}  # not even getMe
        finally:
            first.send_signal(signal.SIGTERM)
            output, _ = first.communicate(timeout=60)
        assert first.returncode == 0 and "stopped" in output, output


# ---- the command line ----------------------------------------------------------------


def test_link_unlink_and_the_list_for_the_admin(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from scheduler.cli.main import cli

    h = harness
    for name, value in telegram_environ(str(h.db.url), h.api).items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    done = runner.invoke(cli, ["link", STAFF, "--valid-hours", "2"])
    assert done.exit_code == 0, done.output
    link = next(line for line in done.output.splitlines() if line.startswith("tautan:"))
    code = link.split("?start=")[1]
    assert link.startswith("tautan:      https://t.me/tenggat_test_bot?start=")
    assert len(code) >= 20 and f"/start {code}" in done.output
    with h.db.read() as session:
        stored = session.scalars(select(models.LinkCode)).one()
        assert stored.code_hash == bot_records.hash_code(code) and code not in stored.code_hash
    h.now = datetime.now(NOW.tzinfo)  # the CLI used the wall clock
    h.send(text_message(CHAT, f"/start {code}"))
    assert h.employee(STAFF).telegram_chat_id == str(CHAT)

    out = tmp_path / "kode.csv"
    listed = runner.invoke(cli, ["link", "--all", "--out", str(out)])
    assert listed.exit_code == 0, listed.output
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert len(rows) == 58 and len({r["code"] for r in rows}) == 58
    assert all(r["link"].startswith("https://t.me/tenggat_test_bot?start=") for r in rows)
    assert runner.invoke(cli, ["link", "--all", "--out", str(tmp_path / "k.xlsx")]).exit_code == 0
    from openpyxl import load_workbook

    workbook = load_workbook(tmp_path / "k.xlsx", read_only=True)
    assert workbook.sheetnames == ["k"]  # named after the file asked for, not a temporary one
    workbook.close()
    assert runner.invoke(cli, ["link", "--all"]).exit_code == 2

    gone = runner.invoke(cli, ["unlink", STAFF])
    assert gone.exit_code == 0 and f"chat {CHAT} dilepas" in gone.output
    assert h.employee(STAFF).telegram_chat_id is None
    h.send(text_message(CHAT, "/status"))
    assert "belum terhubung" in h.texts(CHAT)[-1]
    keys = [r["key"].replace(" ", "") for r in rows]  # NIPs spaced as written, for Excel
    newest = rows[keys.index(STAFF)]["code"]  # revoked by unlink
    h.now = datetime.now(NOW.tzinfo)
    h.send(text_message(CHAT, f"/start {newest}"))
    assert "kedaluwarsa" in h.texts(CHAT)[-1]


def smtp_environ(port: int) -> dict[str, str]:
    return {
        "TENGGAT_SMTP_HOST": "127.0.0.1",
        "TENGGAT_SMTP_PORT": str(port),
        "TENGGAT_SMTP_SECURITY": "none",
        "TENGGAT_SMTP_USERNAME": "admin",
        "TENGGAT_SMTP_PASSWORD": PASSWORD,
    }


def test_link_codes_are_mailed_where_an_address_is_known(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, inbox: tuple[Inbox, int]
) -> None:
    from scheduler.cli.main import cli

    h = harness
    runner = CliRunner()
    for name, value in telegram_environ(str(h.db.url), h.api).items():
        monkeypatch.setenv(name, value)
    refused = runner.invoke(cli, ["link", STAFF, "--mail"])
    assert refused.exit_code == 2 and "[smtp] host" in refused.output
    no_address = runner.invoke(cli, ["link", STAFF, "--mail"], env=smtp_environ(inbox[1]))
    assert no_address.exit_code == 1 and f"tenggat contact {STAFF} --email" in no_address.output
    with h.db.read() as session:
        assert session.scalar(select(sqlalchemy.func.count()).select_from(models.LinkCode)) == 0

    for name, value in smtp_environ(inbox[1]).items():
        monkeypatch.setenv(name, value)
    assert (
        runner.invoke(cli, ["contact", STAFF, "--email", "yanti@kesbangpol.go.id"]).exit_code == 0
    )
    assert (
        runner.invoke(cli, ["contact", SECRETARY, "--email", "refused@kesbangpol.go.id"]).exit_code
        == 0
    )
    mailed = runner.invoke(cli, ["link", STAFF, "--mail"])
    assert mailed.exit_code == 0 and "1 dari 1 kode tautan terkirim lewat e-mail" in mailed.output
    (letter,) = inbox[0].messages
    text = letter.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = letter.get_body(("html",)).get_content()  # type: ignore[union-attr]
    code = text.split("/start ")[1].split()[0]
    assert letter["To"] == "yanti@kesbangpol.go.id" and "Tautan Telegram" in letter["Subject"]
    assert f"https://t.me/tenggat_test_bot?start={code}" in text and code in html
    assert text.splitlines()[0] == "Yth. Ibu YANTI HEIDA YANI"  # the NIP's 15th digit: 2
    assert re.search(r"sampai \w+, \d+ \w+ \d{4} pukul \d\d\.\d\d WITA\.", text), text
    assert text.rstrip().endswith(h.config.settings.service.signature)
    h.now = datetime.now(NOW.tzinfo)  # the CLI used the wall clock
    h.send(text_message(CHAT, f"/start {code}"))
    assert h.employee(STAFF).telegram_chat_id == str(CHAT)

    everyone = runner.invoke(cli, ["link", "--all", "--mail"])
    assert everyone.exit_code == 1, everyone.output  # the Secretary's address is refused
    assert "1 dari 2 kode tautan terkirim" in everyone.output
    assert "tidak terkirim ke SUTRISNO" in everyone.output and "kode " in everyone.output
    with h.db.read() as session:  # codes only for the two with an address: 1 + 2 in all
        assert session.scalar(select(sqlalchemy.func.count()).select_from(models.LinkCode)) == 3


# ---- a measured indicator: /lapor asks for its number ------------------------------------


def test_lapor_for_a_measure_asks_for_the_number_and_refuses_what_is_not_one(
    harness: Harness,
) -> None:
    h = harness
    h.link(CARRIER, 601)
    h.send(text_message(601, "/lapor SERAPAN 2025-02"))
    assert "Ketik nilainya dalam angka, mis. 87,5 (target 100%)" in h.texts(601)[-1]
    for bad, reason in [
        ("delapan puluh", "nilai 'delapan puluh' bukan angka (contoh: 87,5)"),
        ("-5", "nilai tidak boleh negatif: -5"),
    ]:
        h.send(text_message(601, bad))
        assert f"Maaf, nilai tidak dapat dicatat: {reason}" in h.texts(601)[-1], h.texts(601)[-1]
    assert h.submissions() == []  # the question stays open
    h.send(text_message(601, "87,5"))
    (row,) = h.submissions()
    assert (row.rule_code, row.period, row.value, row.evidence) == ("SERAPAN", "2025-02", 87.5, "")
    receipt = h.texts(601)[-1]
    assert "Nilai: 87,5% (target 100%)" in receipt and "Status: Di bawah target" in receipt
