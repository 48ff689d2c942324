"""Can the service work?  The checks behind ``tenggat doctor``: the configuration, the time
zone, the database and its migrations, the roster, the SMTP login and the bot (getMe).

A check is a small function from a `Doctor` to a `Check`; `CHECKS` runs them in order, and
a check that needs what an earlier one could not provide is skipped.  `run_checks` returns
the results as data, in the language asked for; the command prints them (a table or JSON),
with every secret taken out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scheduler.catalog import Words
from scheduler.messages import say

if TYPE_CHECKING:
    from scheduler.config import Config
    from scheduler.store.db import Database

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"

_WORDS = Words("ops")  # the words of the doctor and `tenggat health`, in the catalogs


@dataclass(frozen=True)
class Check:
    """The outcome of one check: ``status`` is ok, warn, fail or skip."""

    name: str  # stable identifier: config, timezone, database, roster, smtp, telegram
    status: str
    message: str


@dataclass
class Doctor:
    """What the checks share: each may read what an earlier one found.  ``load`` reads the
    configuration (raising DefinitionError when it does not load); ``asked`` is the
    language asked for (``--lang``), if any."""

    load: Callable[[], Config]
    asked: str | None = None
    language: str = "id"
    config: Config | None = None
    database: Database | None = None  # set once the database is reachable and current

    def say(self, key: str, **params: Any) -> str:
        return _WORDS[self.language][key].format(**params)

    def check(self, name: str, status: str, key: str, **params: Any) -> Check:
        return Check(name, status, self.say(key, **params))


CheckFunction = Callable[[Doctor], Check]


def _skipped_unless(
    present: Callable[[Doctor], object], reason: str
) -> Callable[[CheckFunction], CheckFunction]:
    """A decorator that skips the check, saying ``reason``, when ``present`` finds nothing:
    a check cannot run without what an earlier one failed to open."""

    def decorate(function: CheckFunction) -> CheckFunction:
        def checked(doctor: Doctor) -> Check:
            if present(doctor) is None:
                return doctor.check(function.__name__.removeprefix("check_"), SKIP, reason)
            return function(doctor)

        checked.__name__ = function.__name__
        checked.__doc__ = function.__doc__
        return checked

    return decorate


# Skip the check when the configuration did not load.
needs_config = _skipped_unless(lambda doctor: doctor.config, "skip_config")
# Skip the check when the database is unreachable or not current.
needs_database = _skipped_unless(lambda doctor: doctor.database, "skip_database")


def check_config(doctor: Doctor) -> Check:
    """The configuration file and TENGGAT_* variables load and validate."""
    from rules.errors import DefinitionError

    try:
        doctor.config = doctor.load()
    except DefinitionError as exc:
        doctor.language = doctor.asked or "id"
        return doctor.check("config", FAIL, "config_fail", error=str(exc))
    # --lang, else the configured language
    doctor.language = doctor.asked or doctor.config.settings.service.language
    path = doctor.config.path
    source = str(path) if path else doctor.say("embedded")
    return doctor.check("config", OK, "config_ok", source=source)


@needs_config
def check_timezone(doctor: Doctor) -> Check:
    """The configured zone is known (the configuration checks that) and is WITA."""
    from zoneinfo import ZoneInfo

    from scheduler.words import clock, long_date

    assert doctor.config is not None
    zone = doctor.config.settings.service.timezone
    now = datetime.now(ZoneInfo(zone))
    raw = now.strftime("%z")
    offset = f"{raw[:3]}:{raw[3:]}"
    if offset != "+08:00":
        return doctor.check("timezone", WARN, "timezone_not_wita", zone=zone, offset=offset)
    day, time = long_date(now.date(), doctor.language), clock(now, doctor.language)
    words = {"zone": zone, "offset": offset, "date": day, "time": time}
    return doctor.check("timezone", OK, "timezone_ok", **words)


@needs_config
def check_database(doctor: Doctor) -> Check:
    """The database answers and its schema is at the code's newest migration."""
    import os
    from pathlib import Path

    from scheduler.service.lock import lock_path
    from scheduler.store.db import SCHEMA_REVISION, Database

    assert doctor.config is not None
    database = Database(doctor.config.settings.database.url)
    url = database.safe_url
    sqlite_file = lock_path(database.url) if database.url.get_backend_name() == "sqlite" else None
    if sqlite_file is not None:
        path = Path(str(sqlite_file).removesuffix(".lock"))
        if not path.exists():  # connecting would create an empty file
            return doctor.check("database", FAIL, "db_missing", path=path)
    try:
        revision = database.revision()
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
    """Someone is on the roster, and a channel other than the console reaches each of them:
    a warning names who it does not reach, and why, since their reminders go nowhere."""
    from sqlalchemy import select

    from scheduler.service.tick import email_channel
    from scheduler.store import models

    assert doctor.database is not None and doctor.config is not None
    table = models.Employee
    query = select(
        table.name, table.email, table.telegram_chat_id, table.telegram_unreachable
    ).where(table.active.is_(True))
    with doctor.database.read() as session:
        people = session.execute(query.order_by(table.name, table.key)).all()
    if not people:
        return doctor.check("roster", WARN, "roster_empty")
    email = sum(bool(person.email) for person in people)
    telegram = sum(bool(person.telegram_chat_id) for person in people)
    neither = sum(not (person.email or person.telegram_chat_id) for person in people)
    counts = {"active": len(people), "email": email, "telegram": telegram, "neither": neither}
    channels = {
        "telegram": doctor.config.settings.telegram.token is not None,
        "email": email_channel(doctor.config) is not None,
    }
    unreached: dict[str, list[str]] = {}
    for name, address, chat, blocked in people:
        if not ((chat and not blocked and channels["telegram"]) or (address and channels["email"])):
            unreached.setdefault(_why_unreached(address, chat, blocked), []).append(name)
    found = doctor.check("roster", OK, "roster_ok", **counts)
    if not unreached:
        return found
    language = doctor.language
    groups = "; ".join(
        f"{say(why, language)}: {' · '.join(names)}" for why, names in unreached.items()
    )
    count = str(sum(len(names) for names in unreached.values()))
    detail = say("doctor_unreached", language, count=count, groups=groups)
    return Check("roster", WARN, f"{found.message}; {detail}")


def _why_unreached(address: str | None, chat: str | None, blocked: str | None) -> str:
    """The message that says why the console is all that reaches one employee."""
    if chat and blocked:
        return "unreached_blocked"
    if chat or address:
        return "unreached_channel_off"
    return "unreached_no_contact"


@needs_config
def check_smtp(doctor: Doctor) -> Check:
    """Connect to the SMTP server, secure the connection and log in, as sending would."""
    from notifications.message import DeliveryError
    from scheduler.service.tick import email_channel

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
    from notifications.message import DeliveryError
    from scheduler.service.tick import telegram_channel

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
    load: Callable[[], Config], asked: str | None = None, checks: list[CheckFunction] | None = None
) -> list[Check]:
    """Run every check (or ``checks``), in the language ``asked`` for, else the configured
    one; one that raises is a failure with its error, never a crash.  ``load`` reads the
    configuration, raising DefinitionError when it does not load."""
    doctor = Doctor(load, asked, asked or "id")
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
