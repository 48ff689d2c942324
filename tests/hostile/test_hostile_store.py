"""Hostile inputs to the database side: one chat claimed by two employees (every input path
and the upgrade of a database that already holds such a clash), a database file deleted,
replaced or hard-linked under the service, a database that is away, read-only or has no
schema, and IKI text in UTF-16.  Each case is data in the test; real SQLite files, a real
PostgreSQL server, real `tenggat` processes."""

from __future__ import annotations

import codecs
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from alembic import command
from conftest import free_port
from fake_telegram import FakeBotAPI, text_message
from sqlalchemy import select, text
from test_bot import Harness
from test_service import SEED, seed_roster

from scheduler.store import models
from scheduler.store.db import SCHEMA_REVISION, Database

TENGGAT = str(Path(sys.executable).parent / "tenggat")
SECRETARY = "197105152000121003"  # SUTRISNO
STAFF = "197201202009021001"  # AHMAD JUNAIDI
KABID = "196905221997031004"  # Drs. ZUKIPLI


def tenggat(
    cwd: Path, url: str, *args: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``tenggat ARGS`` as a real process on ``url``, nothing else of TENGGAT_* set."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
    environ |= {"TENGGAT_DATABASE_URL": url, "COLUMNS": "250"} | (extra or {})
    return subprocess.run(
        [TENGGAT, *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=90
    )


def chats(url: str) -> dict[str, str | None]:
    database = Database(url)
    try:
        with database.read() as session:
            rows = session.execute(select(models.Employee.key, models.Employee.telegram_chat_id))
            return {key: chat for key, chat in rows}
    finally:
        database.engine.dispose()


def set_chat(url: str, key: str, chat: str | None) -> None:
    """Write a chat id behind the application's back (as an older version could)."""
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE employees SET telegram_chat_id = :chat WHERE key = :key"),
            {"chat": chat, "key": key},
        )
    engine.dispose()


@pytest.fixture
def seeded(database_url: str) -> str:
    seed_roster(database_url)
    return database_url


# --------------------------------------------------------------------------- one chat, one person

# (typed for the second employee, what the first holds): the same chat however it is written.
SAME_CHAT = [("12345", "12345"), ("0012345", "12345"), ("-100200", "-100200"), (" 12345", "12345")]


@pytest.mark.parametrize(("typed", "held"), SAME_CHAT)
def test_contact_refuses_a_chat_another_employee_holds(
    seeded: str, tmp_path: Path, typed: str, held: str
) -> None:
    assert tenggat(tmp_path, seeded, "contact", SECRETARY, "--telegram", held).returncode == 0
    before = chats(seeded)
    done = tenggat(tmp_path, seeded, "contact", STAFF, "--telegram", typed.strip())
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr
    assert "SUTRISNO" in done.stderr and SECRETARY in done.stderr, done.stderr
    assert f"contact {SECRETARY} --telegram" in done.stderr
    assert chats(seeded) == before
    # The secretary may set their own chat again; clearing it frees it for the staff member.
    assert tenggat(tmp_path, seeded, "contact", SECRETARY, "--telegram", held).returncode == 0
    assert tenggat(tmp_path, seeded, "contact", SECRETARY, "--telegram", "").returncode == 0
    assert tenggat(tmp_path, seeded, "contact", STAFF, "--telegram", typed.strip()).returncode == 0
    assert chats(seeded)[STAFF] == held


def roster_sheet(tmp_path: Path, url: str, changes: dict[str, str]) -> Path:
    """The exported roster sheet with the chat of each key in ``changes`` set."""
    sheet = tmp_path / "roster.csv"
    assert tenggat(tmp_path, url, "roster", "export", str(sheet)).returncode == 0
    import csv

    with sheet.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file, delimiter=";"))
    for row in rows:
        key = row["key"].replace(" ", "")  # NIPs are spaced as written, for Excel
        if key in changes:
            row["telegram_chat_id"] = changes[key]
    with sheet.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return sheet


# (chats in the database before, chats the sheet gives, who the refusal names)
ROSTER_CLASHES = [
    ({SECRETARY: "12345"}, {STAFF: "12345"}, "SUTRISNO"),
    ({SECRETARY: "12345"}, {STAFF: "0012345"}, "SUTRISNO"),
    ({}, {STAFF: "777", KABID: "777"}, "777"),
]


@pytest.mark.parametrize(("stored", "given", "named"), ROSTER_CLASHES)
def test_roster_import_refuses_a_chat_for_two_and_writes_nothing(
    seeded: str, tmp_path: Path, stored: dict[str, str], given: dict[str, str], named: str
) -> None:
    for key, chat in stored.items():
        set_chat(seeded, key, chat)
    sheet = roster_sheet(tmp_path, seeded, given)
    before = chats(seeded)
    done = tenggat(tmp_path, seeded, "roster", "import", str(sheet))
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr
    assert named in done.stdout + done.stderr, done.stdout + done.stderr
    assert chats(seeded) == before


@pytest.mark.parametrize(("giver", "taker"), [(SECRETARY, STAFF), (STAFF, SECRETARY)])
def test_roster_import_may_move_a_chat_within_one_sheet(
    seeded: str, tmp_path: Path, giver: str, taker: str
) -> None:
    set_chat(seeded, giver, "12345")
    sheet = roster_sheet(tmp_path, seeded, {giver: "", taker: "12345"})
    done = tenggat(tmp_path, seeded, "roster", "import", str(sheet))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (chats(seeded)[giver], chats(seeded)[taker]) == (None, "12345")


def test_the_bot_refuses_to_link_a_chat_linked_to_someone_else(
    database_url: str, tmp_path: Path
) -> None:
    seed_roster(database_url)
    with FakeBotAPI() as api:
        harness = Harness(database_url, api)
        try:
            harness.link(SECRETARY, 500)
            assert harness.employee(SECRETARY).telegram_chat_id == "500"
            code = harness.code_for(STAFF)
            harness.send(text_message(500, f"/start {code}"))
            assert "SUTRISNO" in harness.texts(500)[-1], harness.texts(500)
            assert harness.employee(SECRETARY).telegram_chat_id == "500"
            assert harness.employee(STAFF).telegram_chat_id is None
            assert harness.audit()[-1][1] == "link_refused"
            # Once the secretary's chat is free, the same code works.
            set_chat(database_url, SECRETARY, None)
            harness.send(text_message(500, f"/start {code}"))
            assert harness.employee(STAFF).telegram_chat_id == "500"
        finally:
            harness.close()


def test_the_database_refuses_a_second_holder_of_a_chat(seeded: str) -> None:
    """The constraint beneath every input path: NULL as often as needed, a chat once."""
    set_chat(seeded, SECRETARY, "12345")
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        set_chat(seeded, STAFF, "12345")
    assert sum(chat is None for chat in chats(seeded).values()) == len(chats(seeded)) - 1


def back_to(url: str, revision: str) -> None:
    """The database as the version that stopped at ``revision`` left it."""
    database = Database(url)
    command.downgrade(database._alembic(), revision)
    database.engine.dispose()


def revision_of(url: str) -> str:
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    return str(found)


def test_upgrading_a_database_with_a_shared_chat_names_them_and_waits(
    database_url: str, tmp_path: Path
) -> None:
    seed_roster(database_url)
    back_to(database_url, "0005")
    set_chat(database_url, SECRETARY, "0012345")
    set_chat(database_url, STAFF, "12345")
    set_chat(database_url, KABID, "")
    for args in (("init",), ("run", "--once")):
        done = tenggat(tmp_path, database_url, "--lang", "en", *args)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        sentence = done.stderr
        assert "12345: " in sentence, sentence
        assert "AHMAD JUNAIDI" in sentence and f"({STAFF})" in sentence
        assert "SUTRISNO" in sentence and f"({SECRETARY})" in sentence
        assert "--telegram" in sentence and "tenggat init" in sentence
        assert revision_of(database_url) == "0005"
    # The command the sentence names works on the old revision, and then the upgrade does.
    fixed = tenggat(tmp_path, database_url, "contact", STAFF, "--telegram", "")
    assert fixed.returncode == 0, fixed.stderr
    done = tenggat(tmp_path, database_url, "init")
    assert done.returncode == 0, done.stderr
    assert revision_of(database_url) == SCHEMA_REVISION
    found = chats(database_url)
    assert (found[SECRETARY], found[STAFF], found[KABID]) == ("12345", None, None)


# --------------------------------------------------------------------------- IKI text encodings

SEED_TEXT = SEED.read_text(encoding="utf-8")
# How Windows tools save the same IKI text; each must import as the same 58 employees.
ENCODINGS = {
    "utf-16 with BOM": SEED_TEXT.encode("utf-16"),
    "utf-16-le without BOM": SEED_TEXT.encode("utf-16-le"),
    "utf-16-be with BOM": codecs.BOM_UTF16_BE + SEED_TEXT.encode("utf-16-be"),
    "utf-8 with BOM": SEED_TEXT.encode("utf-8-sig"),
    "utf-16 CRLF": SEED_TEXT.replace("\n", "\r\n").encode("utf-16"),
}
# Not text at all: still refused as binary, in one sentence.
BINARY = {
    "zip": b"PK\x03\x04" + bytes(range(256)) * 8,
    "nul in utf-8": b"INDIKATOR KINERJA\x00INDIVIDU" * 10,
    "odd length utf-16": SEED_TEXT.encode("utf-16-le")[:-1],
}


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_iki_text_in_windows_encodings_imports_the_same_employees(
    tmp_path: Path, name: str
) -> None:
    url = f"sqlite:///{tmp_path / 'tenggat.db'}"
    assert tenggat(tmp_path, url, "init").returncode == 0
    (tmp_path / "iki.txt").write_bytes(ENCODINGS[name])
    done = tenggat(tmp_path, url, "import-iki", "iki.txt")
    assert done.returncode == 0, done.stderr
    found = chats(url)
    assert len(found) == 58
    assert SECRETARY in found and STAFF in found


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_data_is_still_refused_as_binary(tmp_path: Path, name: str) -> None:
    url = f"sqlite:///{tmp_path / 'tenggat.db'}"
    assert tenggat(tmp_path, url, "init").returncode == 0
    (tmp_path / "iki.bin").write_bytes(BINARY[name])
    done = tenggat(tmp_path, url, "--lang", "en", "import-iki", "iki.bin")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "binary" in done.stderr, done.stderr
    assert chats(url) == {}


# --------------------------------------------------------------------------- the database file

# Commands that read the database: none may create an empty file where one was expected.
READERS = [("status",), ("roster", "list"), ("health",), ("contact", SECRETARY, "--email", "")]


@pytest.mark.parametrize("args", READERS, ids=lambda args: args[0])
def test_a_command_on_a_missing_file_says_so_and_creates_nothing(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    path = tmp_path / "gone" / "tenggat.db"
    path.parent.mkdir()
    done = tenggat(tmp_path, f"sqlite:///{path}", "--lang", "en", *args)
    unhealthy = args[0] == "health"  # a monitor's answer: unhealthy (1), and why
    assert done.returncode == (1 if unhealthy else 2), done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"{path} does not exist" in done.stderr and "`tenggat init`" in done.stderr
    assert list(path.parent.iterdir()) == []


class Running:
    """`tenggat run` as a real process, its stderr read line by line."""

    def __init__(self, cwd: Path, url: str) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")}
        environ |= {"TENGGAT_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [TENGGAT, "run"], cwd=cwd, env=environ, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []

    def wait_for(self, word: str, seconds: float = 60) -> str:
        """The first line holding ``word`` (the process may end meanwhile)."""
        import selectors

        assert self.process.stderr is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stderr, selectors.EVENT_READ)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for line in self.lines:
                if word in line:
                    return line
            if selector.select(timeout=0.5):
                line = self.process.stderr.readline()
                if not line and self.process.poll() is not None:
                    break
                self.lines.append(line)
        raise AssertionError(f"no {word!r} in {self.lines}")

    def finish(self, seconds: float = 30) -> int:
        assert self.process.stderr is not None
        code = self.process.wait(timeout=seconds)
        self.lines += self.process.stderr.readlines()
        return code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


@pytest.fixture
def running() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for one in started:
        one.stop()


def test_a_database_deleted_under_the_service_stops_it(
    tmp_path: Path, running: list[Running]
) -> None:
    path = tmp_path / "tenggat.db"
    url = f"sqlite:///{path}"
    seed_roster(url)
    service = Running(tmp_path, url)
    running.append(service)
    service.wait_for("tick at=")
    for file in tmp_path.glob("tenggat.db*"):
        if not file.name.endswith(".lock"):
            file.unlink()
    assert service.finish() == 2
    said = "".join(service.lines)
    assert "Traceback" not in said, said
    assert said.count("was deleted while in use") >= 1, said
    assert not path.exists()  # nothing wrote a fresh file
    # Started again, it does not make an empty database in its place either.
    again = tenggat(tmp_path, url, "--lang", "en", "run", "--once")
    assert again.returncode == 2 and "a scheduler ran on it" in again.stderr, again.stderr
    assert not path.exists()
    health = tenggat(tmp_path, url, "--lang", "en", "health")
    assert health.returncode != 0 and "does not exist" in health.stderr


def test_a_database_replaced_under_the_service_stops_it(
    tmp_path: Path, running: list[Running]
) -> None:
    path = tmp_path / "tenggat.db"
    url = f"sqlite:///{path}"
    seed_roster(url)
    service = Running(tmp_path, url)
    running.append(service)
    service.wait_for("tick at=")
    copy = tmp_path / "copy.db"
    seed_roster(f"sqlite:///{copy}")
    os.replace(copy, path)
    assert service.finish() == 2
    said = "".join(service.lines)
    assert "replaced by another file" in said and "Traceback" not in said, said


def test_a_hard_link_does_not_get_around_the_scheduler_lock(
    tmp_path: Path, running: list[Running]
) -> None:
    path = tmp_path / "tenggat.db"
    seed_roster(f"sqlite:///{path}")
    first = Running(tmp_path, f"sqlite:///{path}")
    running.append(first)
    first.wait_for("tick at=")
    other = tmp_path / "elsewhere"
    other.mkdir()
    os.link(path, other / "same.db")
    second = Running(other, f"sqlite:///{other / 'same.db'}")
    running.append(second)
    assert second.finish() == 2
    said = "".join(second.lines)
    assert "hard link" in said and "Traceback" not in said, said
    assert first.process.poll() is None  # the first one schedules on


def test_a_read_only_database_fails_each_tick_in_one_line_and_health_is_red(
    tmp_path: Path, running: list[Running]
) -> None:
    path = tmp_path / "tenggat.db"
    seed_roster(f"sqlite:///{path}")
    assert tenggat(tmp_path, f"sqlite:///{path}", "run", "--once").returncode == 0
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    service = Running(tmp_path, read_only)
    running.append(service)
    line = service.wait_for("job failed")
    assert "readonly" in line, line
    service.stop()
    said = "".join(service.lines + service.process.stderr.readlines())  # type: ignore[union-attr]
    assert "Traceback" not in said, said
    health = tenggat(tmp_path, read_only, "--lang", "en", "health")
    assert health.returncode == 1, health.stdout + health.stderr
    assert "cannot be written" in health.stdout, health.stdout
    once = tenggat(tmp_path, read_only, "--lang", "en", "run", "--once")
    assert once.returncode == 2 and "Traceback" not in once.stderr, once.stderr
    assert "readonly" in once.stderr


# --------------------------------------------------------------------------- unreachable

# (name, URL): a server that does not answer, a database or schema that is not there.
PASSWORD_IN_URL = "s3cret-pw"
BROKEN = {
    "closed port": f"postgresql+psycopg://postgres:{PASSWORD_IN_URL}@127.0.0.1:{{port}}/test",
    "no database": f"postgresql+psycopg://postgres:{PASSWORD_IN_URL}@127.0.0.1:5432/no_such_db",
    "no schema": (
        f"postgresql+psycopg://postgres:{PASSWORD_IN_URL}@127.0.0.1:5432/test"
        "?options=-csearch_path%3Dno_such_schema"
    ),
}
COMMANDS = [("run", "--once"), ("health",), ("status",), ("roster", "list"), ("init",)]


@pytest.mark.postgres
@pytest.mark.parametrize("name", sorted(BROKEN))
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_an_unusable_postgres_gets_one_sentence(
    tmp_path: Path, name: str, args: tuple[str, ...]
) -> None:
    url = BROKEN[name].format(port=free_port())
    done = tenggat(tmp_path, url, "--lang", "en", *args)
    unhealthy = args[0] == "health"  # a monitor's answer: unhealthy (1), as documented
    assert done.returncode == (1 if unhealthy else 2), done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert PASSWORD_IN_URL not in done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "127.0.0.1" in lines[0], done.stderr
    if name == "no schema" and args[0] in ("init", "run"):  # they create tables: say where
        assert "CREATE SCHEMA" in lines[0], lines[0]
    if unhealthy:
        assert lines[0].startswith("UNHEALTHY: "), lines[0]


@pytest.mark.postgres
@pytest.mark.parametrize("name", sorted(BROKEN))
def test_health_json_reports_an_unusable_database_as_json(tmp_path: Path, name: str) -> None:
    """A monitor reading `tenggat health --json` gets the report's own form, not a sentence."""
    url = BROKEN[name].format(port=free_port())
    done = tenggat(tmp_path, url, "--lang", "en", "health", "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    found = json.loads(done.stdout)
    assert found["healthy"] is False and found["problems"][0]["code"] == "unavailable"
    assert "127.0.0.1" in found["problems"][0]["message"]
    assert PASSWORD_IN_URL not in done.stdout + done.stderr


def test_another_database_behind_the_same_url_stops_the_service(database_url: str) -> None:
    """A schema dropped and made anew, or another deployment's database restored in place:
    the instance id differs, and the service stops rather than plan from other records."""
    from datetime import datetime

    from rules.calendar import WITA
    from scheduler.config import load_config
    from scheduler.service.tick import Service
    from scheduler.store.db import INSTANCE, DatabaseLost

    seed_roster(database_url)
    config = load_config(None, environ={"TENGGAT_DATABASE_URL": database_url})
    now = datetime(2025, 3, 3, 9, tzinfo=WITA)
    service = Service(config, lambda: now)
    try:
        service.start()
        assert service.db.instance_id
        service.tick()
        engine = sqlalchemy.create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE service_state SET value = 'another' WHERE name = :name"),
                {"name": INSTANCE},
            )
        engine.dispose()
        with pytest.raises(DatabaseLost, match="no longer the one"):
            service.tick()
        with pytest.raises(DatabaseLost):
            service.dispatch(now)
    finally:
        service.db.engine.dispose()
