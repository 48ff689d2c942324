"""One chat, one person, continued: what each party is told when a chat is taken, and a
chat held by an employee who is no longer active (who can no longer use it) is not
blocked for good.  Real `tenggat` processes, the fake Bot API, SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import sqlalchemy
from fake_telegram import FakeBotAPI, text_message
from sqlalchemy import text
from test_bot import Harness
from test_hostile_store import SECRETARY, STAFF, chats, set_chat, tenggat
from test_service import seed_roster


def edit_roster(tmp_path: Path, url: str, changes: dict[str, dict[str, str]]) -> Path:
    """The exported roster sheet with the cells in ``changes`` (by key, then column) set."""
    sheet = tmp_path / "roster.csv"
    assert tenggat(tmp_path, url, "roster", "export", str(sheet)).returncode == 0
    with sheet.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file, delimiter=";"))
    for row in rows:
        row.update(changes.get(row["key"].replace(" ", ""), {}))  # NIPs spaced, for Excel
    with sheet.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return sheet


# ------------------------------------------------------------------- what a taken chat says


@pytest.mark.parametrize(
    ("language", "told"),
    [
        ("id", "Kirim /putus dulu (atau minta admin memutuskannya), lalu pakai kode ini lagi."),
        ("en", "Send /putus first (or ask the admin to unlink it), then use this code again."),
    ],
)
def test_the_bot_tells_a_staff_member_to_ask_the_admin_not_a_command(
    database_url: str, language: str, told: str
) -> None:
    seed_roster(database_url)
    with FakeBotAPI() as api:
        harness = Harness(database_url, api, language)
        try:
            harness.link(SECRETARY, 500)
            harness.send(text_message(500, f"/start {harness.code_for(STAFF)}"))
            said = harness.texts(500)[-1]
        finally:
            harness.close()
    assert said.endswith(told), said
    assert "tenggat" not in said and "<code>" not in said and "</code>" not in said


def test_the_admin_is_told_the_whole_command_that_frees_a_chat(
    database_url: str, tmp_path: Path
) -> None:
    seed_roster(database_url)
    assert (
        tenggat(tmp_path, database_url, "contact", SECRETARY, "--telegram", "500").returncode == 0
    )
    for language in ("id", "en"):
        done = tenggat(
            tmp_path, database_url, "--lang", language, "contact", STAFF, "--telegram", "500"
        )
        assert done.returncode != 0
        assert f'`tenggat contact {SECRETARY} --telegram ""`' in done.stderr, done.stderr


# ------------------------------------------------------------ an inactive holder's chat is free


def deactivate_by_roster(tmp_path: Path, url: str) -> None:
    sheet = edit_roster(tmp_path, url, {SECRETARY: {"active": "no"}})
    done = tenggat(tmp_path, url, "roster", "import", str(sheet))
    assert done.returncode == 0, done.stdout + done.stderr


def deactivate_behind_the_back(tmp_path: Path, url: str) -> None:
    """As a version before the rule left it: inactive, still holding the chat."""
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE employees SET active = false WHERE key = :k"), {"k": SECRETARY}
        )
    engine.dispose()


def deactivate_then_give_by_contact(tmp_path: Path, url: str) -> None:
    """The application itself, at the newest revision: the roster deactivates (and so
    frees the chat), then `tenggat contact` gives the inactive employee the chat again."""
    deactivate_by_roster(tmp_path, url)
    done = tenggat(tmp_path, url, "contact", SECRETARY, "--telegram", "12345")
    assert done.returncode == 0, done.stderr
    assert chats(url)[SECRETARY] == "12345"


def claim_by_contact(tmp_path: Path, url: str) -> None:
    done = tenggat(tmp_path, url, "contact", STAFF, "--telegram", "12345")
    assert done.returncode == 0, done.stderr


def claim_by_roster(tmp_path: Path, url: str) -> None:
    sheet = edit_roster(tmp_path, url, {STAFF: {"telegram_chat_id": "12345"}})
    done = tenggat(tmp_path, url, "roster", "import", str(sheet))
    assert done.returncode == 0, done.stdout + done.stderr


def claim_by_bot(tmp_path: Path, url: str) -> None:
    with FakeBotAPI() as api:
        harness = Harness(url, api)
        try:
            harness.send(text_message(12345, f"/start {harness.code_for(STAFF)}"))
            assert "AHMAD JUNAIDI" in harness.texts(12345)[-1], harness.texts(12345)
        finally:
            harness.close()


@pytest.mark.parametrize(
    "deactivate",
    [deactivate_by_roster, deactivate_behind_the_back, deactivate_then_give_by_contact],
)
@pytest.mark.parametrize("claim", [claim_by_contact, claim_by_roster, claim_by_bot])
def test_a_chat_held_by_an_inactive_employee_can_be_claimed(
    database_url: str, tmp_path: Path, deactivate: object, claim: object
) -> None:
    seed_roster(database_url)
    set_chat(database_url, SECRETARY, "12345")
    deactivate(tmp_path, database_url)  # type: ignore[operator]
    claim(tmp_path, database_url)  # type: ignore[operator]
    found = chats(database_url)
    assert (found[SECRETARY], found[STAFF]) == (None, "12345")
