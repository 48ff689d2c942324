"""The doctor: can the service work here (configuration, time zone, database, roster,
channels)?  ``tenggat doctor`` runs it and prints what it found.

A check is a small function from a `Doctor` to a `Check`; `CHECKS` runs them in order, and
a check that needs what an earlier one could not provide is skipped.  A message may hold a
secret (a URL with its password): the command scrubs what it prints.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import inspect

from notifications.message import DeliveryError
from rules.errors import DefinitionError
from scheduler.config import Config
from scheduler.service.lock import lock_path
from scheduler.service.tick import email_channel, telegram_channel
from scheduler.store import records
from scheduler.store.db import SCHEMA_REVISION, Database

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"

WORDS: dict[str, dict[str, str]] = {
    "id": {
        # check names
        "config": "Konfigurasi",
        "timezone": "Zona waktu",
        "database": "Basis data",
        "roster": "Daftar pegawai",
        "smtp": "SMTP",
        "telegram": "Telegram",
        # statuses
        OK: "OK",
        WARN: "PERINGATAN",
        FAIL: "GAGAL",
        SKIP: "DILEWATI",
        # doctor
        "doctor_title": "Pemeriksaan Tenggat",
        "heading_check": "Pemeriksaan",
        "heading_result": "Hasil",
        "heading_detail": "Keterangan",
        "all_passed": "Semua pemeriksaan lulus.",
        "passed_with_warnings": "Lulus, dengan {count} peringatan.",
        "some_failed": "{count} pemeriksaan gagal.",
        "crashed": "pemeriksaan gagal dengan galat tak terduga: {error}",
        "config_ok": "dimuat dari {source}",
        "embedded": "nilai bawaan (tanpa berkas)",
        "config_fail": "tidak dapat dimuat: {error}",
        "skip_config": "konfigurasi tidak dapat dimuat",
        "skip_database": "basis data belum dapat dipakai",
        "timezone_ok": "{zone}, sekarang UTC{offset} ({abbr}), pukul {clock}",
        "timezone_not_wita": (
            "{zone} (UTC{offset}) bukan WITA: tenggat IKI berakhir tengah malam WITA "
            "(Asia/Makassar, UTC+08:00)"
        ),
        "db_ok": "{url}: revisi {revision} (terbaru)",
        "db_missing": "berkas {path} belum ada: jalankan `tenggat init`",
        "db_unreachable": "{url} tidak dapat dihubungi: {error}",
        "db_empty": "{url} belum diinisialisasi: jalankan `tenggat init`",
        "db_behind": (
            "{url} pada revisi {revision}, versi ini memerlukan {head}: jalankan `tenggat init`"
        ),
        "db_ahead": (
            "{url} pada revisi {revision} yang tidak dikenal versi ini ({head}): perbarui Tenggat"
        ),
        "db_readonly": (
            "{url}: revisi {revision}, tetapi direktori {directory} tidak dapat ditulisi "
            "(SQLite memerlukan berkas -wal dan .lock di sana)"
        ),
        "roster_empty": "kosong: impor dengan `tenggat import-iki FILE` atau `tenggat demo`",
        "roster_ok": (
            "{active} pegawai aktif: {email} dengan e-mail, {telegram} dengan Telegram, "
            "{neither} tanpa keduanya (hanya konsol)"
        ),
        "smtp_off": "tidak diatur ([smtp] host kosong): e-mail tidak dikirim",
        "smtp_no_password": "username {user} diatur tetapi TENGGAT_SMTP_PASSWORD kosong",
        "smtp_ok_login": "{host}:{port} ({security}): terhubung, login sebagai {user} berhasil",
        "smtp_ok": "{host}:{port} ({security}): terhubung, tanpa login",
        "smtp_plain_login": (
            "{host}:{port}: login sebagai {user} berhasil, tetapi tanpa enkripsi (security = "
            '"none"): kata sandi terkirim terbuka'
        ),
        "smtp_fail": "{host}:{port} ({security}): {error}",
        "telegram_off": "tidak diatur (TENGGAT_TELEGRAM_TOKEN kosong): Telegram tidak dipakai",
        "telegram_ok": "bot @{username} menjawab getMe di {url}",
        "telegram_fail": "{url}: {error}",
    },
    "en": {
        "config": "Configuration",
        "timezone": "Time zone",
        "database": "Database",
        "roster": "Roster",
        "smtp": "SMTP",
        "telegram": "Telegram",
        OK: "ok",
        WARN: "warn",
        FAIL: "FAIL",
        SKIP: "skip",
        "doctor_title": "Tenggat checks",
        "heading_check": "Check",
        "heading_result": "Result",
        "heading_detail": "Detail",
        "all_passed": "All checks passed.",
        "passed_with_warnings": "Passed, with {count} warning(s).",
        "some_failed": "{count} check(s) failed.",
        "crashed": "the check failed with an unexpected error: {error}",
        "config_ok": "loaded from {source}",
        "embedded": "built-in defaults (no file)",
        "config_fail": "cannot be loaded: {error}",
        "skip_config": "the configuration did not load",
        "skip_database": "the database cannot be used yet",
        "timezone_ok": "{zone}, now UTC{offset} ({abbr}), {clock}",
        "timezone_not_wita": (
            "{zone} (UTC{offset}) is not WITA: IKI deadlines end at midnight WITA "
            "(Asia/Makassar, UTC+08:00)"
        ),
        "db_ok": "{url}: revision {revision} (newest)",
        "db_missing": "file {path} does not exist: run `tenggat init`",
        "db_unreachable": "{url} cannot be reached: {error}",
        "db_empty": "{url} is not initialised: run `tenggat init`",
        "db_behind": (
            "{url} is at revision {revision}, this version needs {head}: run `tenggat init`"
        ),
        "db_ahead": (
            "{url} is at revision {revision}, unknown to this version ({head}): upgrade Tenggat"
        ),
        "db_readonly": (
            "{url}: revision {revision}, but directory {directory} is not writable (SQLite "
            "needs its -wal and .lock files there)"
        ),
        "roster_empty": "empty: import it with `tenggat import-iki FILE` or `tenggat demo`",
        "roster_ok": (
            "{active} active employees: {email} with e-mail, {telegram} with Telegram, "
            "{neither} with neither (console only)"
        ),
        "smtp_off": "not configured (no [smtp] host): no e-mail is sent",
        "smtp_no_password": "username {user} is set but TENGGAT_SMTP_PASSWORD is empty",
        "smtp_ok_login": "{host}:{port} ({security}): connected, logged in as {user}",
        "smtp_ok": "{host}:{port} ({security}): connected, no login",
        "smtp_plain_login": (
            '{host}:{port}: logged in as {user}, but unencrypted (security = "none"): the '
            "password went in clear"
        ),
        "smtp_fail": "{host}:{port} ({security}): {error}",
        "telegram_off": "not configured (no TENGGAT_TELEGRAM_TOKEN): Telegram is not used",
        "telegram_ok": "bot @{username} answered getMe at {url}",
        "telegram_fail": "{url}: {error}",
    },
}


class Source(Protocol):
    """Where the doctor finds the configuration (loaded on first use, so loading it is a
    check) and the language to speak once it has loaded: the command line's context."""

    @property
    def config(self) -> Config: ...

    @property
    def language(self) -> str: ...


@dataclass(frozen=True)
class Check:
    """The outcome of one check: ``status`` is ok, warn, fail or skip."""

    name: str  # stable identifier: config, timezone, database, roster, smtp, telegram
    status: str
    message: str


@dataclass
class Doctor:
    """What the checks share: each may read what an earlier one found."""

    context: Source
    asked: str | None = None  # --lang as given: the language while the configuration fails
    language: str = "id"
    config: Config | None = None
    database: Database | None = None  # set once the database is reachable and current

    def say(self, key: str, **params: Any) -> str:
        return WORDS[self.language][key].format(**params)

    def check(self, name: str, status: str, key: str, **params: Any) -> Check:
        return Check(name, status, self.say(key, **params))


CheckFunction = Callable[[Doctor], Check]


def needs_config(function: CheckFunction) -> CheckFunction:
    """Skip the check when the configuration did not load."""

    def checked(doctor: Doctor) -> Check:
        if doctor.config is None:
            return doctor.check(function.__name__.removeprefix("check_"), SKIP, "skip_config")
        return function(doctor)

    checked.__name__ = function.__name__
    checked.__doc__ = function.__doc__
    return checked


def needs_database(function: CheckFunction) -> CheckFunction:
    """Skip the check when the database is unreachable or not current."""

    def checked(doctor: Doctor) -> Check:
        if doctor.database is None:
            return doctor.check(function.__name__.removeprefix("check_"), SKIP, "skip_database")
        return function(doctor)

    checked.__name__ = function.__name__
    checked.__doc__ = function.__doc__
    return checked


def check_config(doctor: Doctor) -> Check:
    """The configuration file and TENGGAT_* variables load and validate."""
    try:
        doctor.config = doctor.context.config
    except DefinitionError as exc:
        doctor.language = doctor.asked or "id"
        return doctor.check("config", FAIL, "config_fail", error=str(exc))
    doctor.language = doctor.context.language  # --lang, else the configured language
    path = doctor.config.path
    source = str(path) if path else doctor.say("embedded")
    return doctor.check("config", OK, "config_ok", source=source)


@needs_config
def check_timezone(doctor: Doctor) -> Check:
    """The configured zone is known (the configuration checks that) and is WITA."""
    assert doctor.config is not None
    zone = doctor.config.settings.service.timezone
    now = datetime.now(ZoneInfo(zone))
    raw = now.strftime("%z")
    offset = f"{raw[:3]}:{raw[3:]}"
    if offset != "+08:00":
        return doctor.check("timezone", WARN, "timezone_not_wita", zone=zone, offset=offset)
    clock = now.strftime("%Y-%m-%d %H:%M")
    abbr = now.tzname() or zone
    return doctor.check(
        "timezone", OK, "timezone_ok", zone=zone, offset=offset, abbr=abbr, clock=clock
    )


@needs_config
def check_database(doctor: Doctor) -> Check:
    """The database answers and its schema is at the code's newest migration."""
    assert doctor.config is not None
    database = Database(doctor.config.settings.database.url)
    url = database.url.render_as_string(hide_password=True)
    sqlite_file = lock_path(database.url) if database.url.get_backend_name() == "sqlite" else None
    if sqlite_file is not None:
        path = Path(str(sqlite_file).removesuffix(".lock"))
        if not path.exists():  # connecting would create an empty file
            return doctor.check("database", FAIL, "db_missing", path=path)
    try:
        with database.engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            revision = (
                connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
                if "alembic_version" in tables
                else None
            )
    except Exception as exc:
        database.engine.dispose()
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return doctor.check("database", FAIL, "db_unreachable", url=url, error=error)
    head = database.head() or SCHEMA_REVISION
    if revision != head:
        database.engine.dispose()  # not usable: the later checks are skipped
    if revision is None:
        return doctor.check("database", FAIL, "db_empty", url=url)
    if revision != head:
        known = revision < head  # revisions are numbered 0001, 0002, …
        key = "db_behind" if known else "db_ahead"
        return doctor.check("database", FAIL, key, url=url, revision=revision, head=head)
    doctor.database = database
    if sqlite_file is not None and not os.access(sqlite_file.parent, os.W_OK):
        directory = sqlite_file.parent
        return doctor.check(
            "database", WARN, "db_readonly", url=url, revision=revision, directory=directory
        )
    return doctor.check("database", OK, "db_ok", url=url, revision=revision)


@needs_database
def check_roster(doctor: Doctor) -> Check:
    """Someone is on the roster, and how many of them a channel other than the console reaches."""
    assert doctor.database is not None
    with doctor.database.read() as session:
        active, email, telegram, reached = records.reach(session)
    if not active:
        return doctor.check("roster", WARN, "roster_empty")
    neither = active - reached
    return doctor.check(
        "roster", OK, "roster_ok", active=active, email=email, telegram=telegram, neither=neither
    )


@needs_config
def check_smtp(doctor: Doctor) -> Check:
    """Connect to the SMTP server, secure the connection and log in, as sending would."""
    assert doctor.config is not None
    smtp = doctor.config.settings.smtp
    channel = email_channel(doctor.config)
    if channel is None:
        return doctor.check("smtp", SKIP, "smtp_off")
    where = {"host": smtp.host, "port": smtp.port, "security": smtp.security}
    if smtp.username and smtp.password is None:
        return doctor.check("smtp", FAIL, "smtp_no_password", user=smtp.username)
    channel.timeout = 15.0
    try:
        with channel:
            pass
    except DeliveryError as exc:
        return doctor.check("smtp", FAIL, "smtp_fail", error=str(exc), **where)
    if smtp.username and smtp.security == "none":
        return doctor.check("smtp", WARN, "smtp_plain_login", user=smtp.username, **where)
    if smtp.username:
        return doctor.check("smtp", OK, "smtp_ok_login", user=smtp.username, **where)
    return doctor.check("smtp", OK, "smtp_ok", **where)


@needs_config
def check_telegram(doctor: Doctor) -> Check:
    """Ask the Bot API who the bot is (getMe), as every dispatch run does first."""
    assert doctor.config is not None
    channel = telegram_channel(doctor.config)
    if channel is None:
        return doctor.check("telegram", SKIP, "telegram_off")
    url = channel.base_url
    try:
        with channel:
            username = channel.username
    except DeliveryError as exc:
        return doctor.check("telegram", FAIL, "telegram_fail", url=url, error=str(exc))
    return doctor.check("telegram", OK, "telegram_ok", url=url, username=username)


# In order: a check may use what an earlier one set on the Doctor (config, database).  A
# new check is a function `(Doctor) -> Check`, decorated with needs_config/needs_database
# as it requires, and added here.
CHECKS: list[CheckFunction] = [
    check_config,
    check_timezone,
    check_database,
    check_roster,
    check_smtp,
    check_telegram,
]


def run_checks(
    context: Source, checks: list[CheckFunction] | None = None, asked: str | None = None
) -> list[Check]:
    """Run every check; one that raises is a failure with its error, never a crash.
    ``asked``: the language asked for (``--lang``), if any."""
    doctor = Doctor(context, asked, asked or "id")
    results = []
    for function in CHECKS if checks is None else checks:
        try:
            results.append(function(doctor))
        except Exception as exc:
            name = function.__name__.removeprefix("check_")
            error = f"{type(exc).__name__}: {exc}"
            results.append(doctor.check(name, FAIL, "crashed", error=error))
    if doctor.database is not None:
        doctor.database.engine.dispose()
    return results
