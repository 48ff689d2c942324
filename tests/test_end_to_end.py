"""The whole way, as a user runs it: the seed roster, some submissions, `tenggat run` as a
subprocess with its clock set, a fake Telegram Bot API and a real SMTP server on 127.0.0.1.
What reached whom is read at the servers (and on the console for the unreachable)."""

from __future__ import annotations

import os
import re
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PASSWORD, Inbox
from fake_telegram import TOKEN, FakeBotAPI
from sqlalchemy import select
from test_service import SECRETARY, TENGGAT

from scheduler.store import models
from scheduler.store.db import Database

SKP = "Sasaran Kinerja Pegawai (SKP) Tahun 2025"
CONSOLE = re.compile(r"^\[console\] → .* \((\S+)\):$", re.MULTILINE)


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as fake:
        yield fake


def test_reminders_escalations_and_the_digest_reach_the_right_people(
    tmp_path: Path,
    api: FakeBotAPI,
    inbox: tuple[Inbox, int],
) -> None:
    handler, port = inbox
    url = f"sqlite:///{tmp_path / 'tenggat.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")} | {
        "TENGGAT_DATABASE_URL": url,
        "TENGGAT_TELEGRAM_TOKEN": TOKEN,
        "TENGGAT_TELEGRAM_API_URL": api.base_url,
        "TENGGAT_SMTP_HOST": "127.0.0.1",
        "TENGGAT_SMTP_PORT": str(port),
        "TENGGAT_SMTP_SECURITY": "none",
        "TENGGAT_SMTP_USERNAME": "admin",
        "TENGGAT_SMTP_PASSWORD": PASSWORD,
    }

    def tenggat(*args: str) -> str:
        done = subprocess.run(
            [TENGGAT, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    tenggat("demo")
    database = Database(url)
    with database.write() as session:
        people = session.scalars(select(models.Employee).order_by(models.Employee.id)).all()
        for number, person in enumerate(people):  # a third each: Telegram, e-mail, neither
            if number % 3 == 0:
                person.telegram_chat_id = str(1000 + number)
            elif number % 3 == 1:
                person.email = f"p{number}@kesbangpol.go.id"
        chats = {p.telegram_chat_id: p.key for p in people if p.telegram_chat_id}
        mails = {p.email: p.key for p in people if p.email}
        superior = {p.key: p.superior.key for p in people if p.superior is not None}
        carriers = set(
            session.scalars(
                select(models.Employee.key)
                .join(models.Assignment, models.Assignment.employee_id == models.Employee.id)
                .where(models.Assignment.rule_code == "SKP")
            )
        )
    database.engine.dispose()
    submitted = sorted(carriers)[:10]
    for key in submitted:
        tenggat("submit", key, "SKP", "2025", "--at", "2025-02-14")

    def received(console: str) -> dict[str, list[str]]:
        """Everything each person got so far, by any channel, keyed by NIP."""
        got: dict[str, list[str]] = defaultdict(list)
        for sent in api.sent:
            got[chats[sent.chat_id]].append(sent.text)
        for mail in handler.messages:
            got[mails[str(mail["To"])]].append(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        parts = CONSOLE.split(console)
        for key, text in zip(parts[1::2], parts[2::2], strict=True):
            got[key].append(text)
        return got

    # Thursday 20 February 2025, a week before SKP is due: reminders to those who owe it.
    first = tenggat("run", "--once", "--as-of", "2025-02-20 09:00")
    due = f"{SKP}: batas waktu Jumat, 28 Februari 2025 (8 hari lagi)"  # the reminder's own
    reminded = {key for key, texts in received(first).items() if any(due in t for t in texts)}
    assert reminded == carriers - set(submitted)

    # Monday 3 March: SKP is three days late; superiors hear of it; the Secretary's digest.
    second = tenggat("run", "--once", "--as-of", "2025-03-03 09:00")
    now = received(first + second)
    late = carriers - set(submitted)
    told = {
        key
        for key, texts in now.items()
        for t in texts
        # by person, or past eight staff by obligation ("SKP …: 28 orang belum menyampaikan")
        if "Kewajiban bawahan" in t
        and (f"{SKP}: lewat 3 hari" in t or (f"{SKP}: " in t and "orang belum menyampaikan" in t))
    }
    assert told == {superior[k] for k in late if k in superior and superior[k] != k}
    digests = [k for k, texts in now.items() for t in texts if "Ringkasan mingguan" in t]
    # one for the week of 20 February (its Monday had passed) and Monday 3 March's; the
    # week between had no run, and a digest is never sent for a week gone by
    assert digests == [SECRETARY, SECRETARY]

    # Once more at the same moment, and a day later: nothing is sent twice.
    before = sum(len(texts) for texts in now.values())
    third = tenggat("run", "--once", "--as-of", "2025-03-03 09:30")
    assert sum(len(t) for t in received(first + second + third).values()) == before
