"""Times as people type them on the command line (`--as-of`, `--at`, a DAY): ISO 8601 with or
without seconds and an offset, and the day-first forms of an Indonesian office (20/02/2025
09.00), each read through the real command line on a real database; and the forms refused
(31/02/2025, 2025-13-01, 02/20/2025 in US order), each with its sentence from the catalog
in both languages.

One meaning for a date alone: the whole of that day in the configured zone (WITA).  A
command that reads the records as of a moment reads them at its end, 23:59:59, or now when
that day is today; `submit --at` records the submission at 12:00 that day, as the
submissions sheet does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from test_cli_records import SEED_TEXT, STAFF, Env

from rules.calendar import WITA
from rules.catalog import Catalog
from scheduler.iki.apply import apply_import
from scheduler.iki.document import IkiImport, parse_iki
from scheduler.messages import say
from scheduler.store.db import Database


@pytest.fixture
def migrated(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """An empty, current database and an empty working directory, nothing of TENGGAT_* set
    but the database URL."""
    import os

    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("TENGGAT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TENGGAT_DATABASE_URL", database_url)
    database = Database(database_url)
    database.migrate()
    database.engine.dispose()
    yield Env(database_url, tmp_path)
    import gc

    gc.collect()  # close the pools of the engines the in-process commands left behind


@pytest.fixture(scope="module")
def seed(catalog: Catalog) -> IkiImport:
    return parse_iki(SEED_TEXT, catalog)


@pytest.fixture
def seeded(migrated: Env, seed: IkiImport) -> Env:
    database = Database(migrated.url)
    with database.write() as session:
        apply_import(session, seed, datetime(2025, 3, 1, 9, tzinfo=WITA))
    database.engine.dispose()
    return migrated


def wita(text: str) -> str:
    """A moment from the JSON output, in WITA, to the second."""
    return datetime.fromisoformat(text).astimezone(WITA).isoformat()


# What is typed, and the moment a reading command (plan, status, digest, run --once) reads.
READINGS = [
    ("2025-02-20", "2025-02-20T23:59:59+08:00"),  # a date alone: the end of that day
    ("20/02/2025", "2025-02-20T23:59:59+08:00"),
    ("20-02-2025", "2025-02-20T23:59:59+08:00"),
    ("3/3/2025", "2025-03-03T23:59:59+08:00"),
    ("2025-02-20 09:00", "2025-02-20T09:00:00+08:00"),  # a naive time is WITA
    ("2025-02-20T09:00", "2025-02-20T09:00:00+08:00"),
    ("2025-02-20T09:00:30", "2025-02-20T09:00:30+08:00"),
    ("2025-02-20 00:00", "2025-02-20T00:00:00+08:00"),  # midnight typed is midnight
    ("2025-02-20T09:00:00+08:00", "2025-02-20T09:00:00+08:00"),
    ("2025-02-20T09:00:00+07:00", "2025-02-20T10:00:00+08:00"),  # an offset is converted
    ("2025-02-20T01:00:00Z", "2025-02-20T09:00:00+08:00"),
    ("2025-02-20T09:00+0900", "2025-02-20T08:00:00+08:00"),
    ("2025-02-20 23:30 -03:00", "2025-02-21T10:30:00+08:00"),
    ("20/02/2025 09:00", "2025-02-20T09:00:00+08:00"),
    ("20/02/2025 09.00", "2025-02-20T09:00:00+08:00"),  # PUEBI: a dot in the time
    ("20-02-2025 09.00", "2025-02-20T09:00:00+08:00"),
    ("20/02/2025 9.05.30", "2025-02-20T09:05:30+08:00"),
    ("20/02/2025 09.00 WIB", "2025-02-20T10:00:00+08:00"),
    ("20/02/2025 09.00 wita", "2025-02-20T09:00:00+08:00"),
    ("  2025-02-20 09:00  ", "2025-02-20T09:00:00+08:00"),
]


@pytest.mark.parametrize(("typed", "read"), READINGS, ids=[t for t, _ in READINGS])
def test_plan_reads_the_moment_typed(migrated: Env, typed: str, read: str) -> None:
    done = migrated.json("plan", "--as-of", typed, "--json")
    assert wita(done["as_of"]) == read


STATUS_AND_DIGEST = [("status", "--json"), ("digest", "--format", "json", "--preview")]


@pytest.mark.parametrize("command", STATUS_AND_DIGEST, ids=["status", "digest"])
@pytest.mark.parametrize("typed", ["2025-03-03", "03/03/2025", "03-03-2025"])
def test_status_and_digest_read_a_date_alone_as_its_end(
    migrated: Env, command: tuple[str, ...], typed: str
) -> None:
    """`status --as-of 3 March` counts what was recorded on 3 March."""
    done = migrated.json(*command, "--as-of", typed)
    assert wita(done["as_of"]) == "2025-03-03T23:59:59+08:00"


def test_a_date_alone_that_is_today_is_now(migrated: Env) -> None:
    """The rest of today has not happened: as of today is as of now."""
    before = datetime.now(WITA)
    today = before.date()
    for typed in (today.isoformat(), f"{today:%d/%m/%Y}"):
        done = datetime.fromisoformat(migrated.json("plan", "--as-of", typed, "--json")["as_of"])
        assert before <= done <= datetime.now(WITA)


# What is typed for `submit --at`, and when the submission is recorded.
SUBMITTED = [
    ("2025-02-20", "2025-02-20T12:00:00+08:00"),  # a date alone: midday, as in the sheet
    ("20/02/2025", "2025-02-20T12:00:00+08:00"),
    ("2025-02-20 00:00", "2025-02-20T00:00:00+08:00"),
    ("20/02/2025 09.15", "2025-02-20T09:15:00+08:00"),
    ("20-02-2025 14.30", "2025-02-20T14:30:00+08:00"),
    ("2025-02-20T09:00:00+08:00", "2025-02-20T09:00:00+08:00"),
    ("2025-02-20T09:00:00+07:00", "2025-02-20T10:00:00+08:00"),
    ("2025-02-20T16:30:00Z", "2025-02-21T00:30:00+08:00"),
]


@pytest.mark.parametrize(("typed", "recorded"), SUBMITTED, ids=[t for t, _ in SUBMITTED])
def test_submit_records_the_moment_typed(seeded: Env, typed: str, recorded: str) -> None:
    done = seeded.run("submit", STAFF, "SKP", "2025", "--at", typed)
    assert done.exit_code == 0, done.output
    assert recorded[:16].replace("T", " ") in done.output  # said in WITA
    (row,) = seeded.json("submissions", "list", "--nip", STAFF, "--json")
    assert wita(row["submitted_at"]) == recorded


def test_a_day_is_read_day_first_too(seeded: Env) -> None:
    """Where only a date makes sense (a DAY, --from, --to, `rules list --as-of`), 20/12/2024
    is read as ISO 2024-12-20 is."""
    iso = seeded.json("rules", "list", "--json", "--as-of", "2025-02-20")
    assert seeded.json("rules", "list", "--json", "--as-of", "20/02/2025") == iso
    due = ("rules", "due", "SKP", "--json")
    assert seeded.json(*due, "--from", "01/01/2025", "--to", "31-12-2025") == seeded.json(
        *due, "--from", "2025-01-01", "--to", "2025-12-31"
    )
    assert seeded.run("event", "set", "APBD_ADOPTED", "2025", "20/12/2024").exit_code == 0
    (adopted,) = seeded.json("event", "list", "--json")
    assert adopted["day"] == "2024-12-20"


MOMENT_FORMS = "when_forms_moment"
DAY_FORMS = "when_forms_day"
# What is refused, where, the message that says why, its parameters and the forms it names.
REFUSED: list[tuple[tuple[str, ...], str, dict[str, str], str]] = [
    (
        ("status", "--as-of", "31/02/2025"),
        "when_no_day",
        {"day": "31", "month": "02", "year": "2025"},
        MOMENT_FORMS,
    ),
    (
        ("status", "--as-of", "2025-02-30"),
        "when_no_day",
        {"day": "30", "month": "02", "year": "2025"},
        MOMENT_FORMS,
    ),
    (("status", "--as-of", "2025-13-01"), "when_no_month", {"month": "13"}, MOMENT_FORMS),
    (
        ("status", "--as-of", "02/20/2025"),
        "when_day_first",
        {"month": "20", "swapped": "20/02/2025"},
        MOMENT_FORMS,
    ),
    (
        ("plan", "--as-of", "12-31-2025 09.00"),
        "when_day_first",
        {"month": "31", "swapped": "31-12-2025"},
        MOMENT_FORMS,
    ),
    (("status", "--as-of", "20/02/2025 24:00"), "when_no_time", {}, MOMENT_FORMS),
    (("digest", "--as-of", "2025-02-20 09:60"), "when_no_time", {}, MOMENT_FORMS),
    (("plan", "--as-of", "2025-02-20T09:00+15:00"), "when_no_time", {}, MOMENT_FORMS),
    (("status", "--as-of", "3 Maret"), "when_unreadable", {}, MOMENT_FORMS),
    (("status", "--as-of", "kemarin"), "when_unreadable", {}, MOMENT_FORMS),
    (("status", "--as-of", "2025/02/20"), "when_unreadable", {}, MOMENT_FORMS),
    (("status", "--as-of", "20/02-2025"), "when_unreadable", {}, MOMENT_FORMS),
    (("status", "--as-of", "20/02/25"), "when_unreadable", {}, MOMENT_FORMS),
    (("status", "--as-of", "20/02/2025T09:00"), "when_unreadable", {}, MOMENT_FORMS),
    (("status", "--as-of", "09:00"), "when_unreadable", {}, MOMENT_FORMS),
    (("status", "--as-of", "2025-02-20+08:00"), "when_unreadable", {}, MOMENT_FORMS),
    (("status", "--as-of", "2025-02-20 09:00 WITB"), "when_unreadable", {}, MOMENT_FORMS),
    (("status", "--as-of", ""), "when_unreadable", {}, MOMENT_FORMS),
    (
        ("run", "--once", "--as-of", "2025-02-31"),
        "when_no_day",
        {"day": "31", "month": "02", "year": "2025"},
        MOMENT_FORMS,
    ),
    (
        ("submit", STAFF, "SKP", "2025", "--at", "31/02/2025 09.00"),
        "when_no_day",
        {"day": "31", "month": "02", "year": "2025"},
        MOMENT_FORMS,
    ),
    (
        ("submit", STAFF, "SKP", "2025", "--at", "02/20/2025"),
        "when_day_first",
        {"month": "20", "swapped": "20/02/2025"},
        MOMENT_FORMS,
    ),
    (
        ("event", "set", "APBD_ADOPTED", "2025", "31/02/2024"),
        "when_no_day",
        {"day": "31", "month": "02", "year": "2024"},
        DAY_FORMS,
    ),
    (
        ("event", "set", "APBD_ADOPTED", "2025", "2024-12-20 09:00"),
        "when_unreadable",
        {},
        DAY_FORMS,
    ),
    (("rules", "list", "--as-of", "2025-13-01"), "when_no_month", {"month": "13"}, DAY_FORMS),
    (
        ("simulate", "--from", "02/20/2025", "--to", "2025-03-01"),
        "when_day_first",
        {"month": "20", "swapped": "20/02/2025"},
        DAY_FORMS,
    ),
]


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize(
    ("args", "message", "params", "forms"), REFUSED, ids=[" ".join(a) for a, *_ in REFUSED]
)
def test_a_time_not_read_is_refused_naming_the_forms(
    seeded: Env,
    language: str,
    args: tuple[str, ...],
    message: str,
    params: dict[str, str],
    forms: str,
) -> None:
    before = seeded.dump()
    done = seeded.run("--lang", language, *args)
    assert done.exit_code == 2, done.output
    assert "Traceback" not in done.output
    typed = args[-1] if args[0] != "simulate" else args[2]
    sentence = say(message, language, value=typed.strip(), forms=say(forms, language), **params)
    frame = {"id": "Kesalahan: Nilai tidak sah untuk", "en": "Error: Invalid value for"}
    assert f"{frame[language]} " in done.output
    assert sentence in " ".join(done.output.split()), done.output
    assert seeded.dump() == before


def test_the_forms_named_are_read(migrated: Env) -> None:
    """Every example a refusal gives is itself accepted."""
    for language in ("id", "en"):
        for example in (
            "2025-02-20",
            "20/02/2025",
            "20/02/2025 09.00",
            "2025-02-20 09:00",
            "2025-02-20T09:00:00+08:00",
        ):
            assert example in say(MOMENT_FORMS, language)
            assert migrated.run("plan", "--as-of", example, "--json").exit_code == 0
