"""The background service: look at the records on a schedule and tell people what is due.

Each tick reads the records, evaluates them, writes the notices that should exist now to
the outbox (idempotently) and dispatches what the outbox holds.  What is sent is decided by
those tables alone, so APScheduler's timing only decides *when we look*, and a restart
after downtime sends each open occurrence's newest step once.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, delete, func, select

from notifications.console import ConsoleChannel
from notifications.email import EmailChannel
from notifications.message import Channel
from notifications.telegram import TelegramChannel
from rules.evaluate import Evaluation, evaluate
from rules.periods import iso_week
from rules.plan import Notice, plan
from scheduler.config import Config
from scheduler.memory import paused_gc
from scheduler.reports import digest
from scheduler.service import planning
from scheduler.service.dispatch import Dispatcher
from scheduler.store import models, outbox, records, state
from scheduler.store.db import Database, DatabaseError, DatabaseLost, failure
from scheduler.store.records import Snapshot

if TYPE_CHECKING:
    from scheduler.service.lock import SchedulerLock

log = logging.getLogger("tenggat")
EXPIRED = timedelta(days=30)  # how long an unused, expired link code is kept


def email_channel(config: Config) -> EmailChannel | None:
    """The configured SMTP server as a channel; None when no host is set."""
    smtp = config.settings.smtp
    if not smtp.host:
        return None
    password = smtp.password.get_secret_value() if smtp.password else None
    return EmailChannel(smtp.host, smtp.port, smtp.security, smtp.sender, smtp.username, password)


def telegram_channel(config: Config) -> TelegramChannel | None:
    """The bot as a channel; None when no token is set (TENGGAT_TELEGRAM_TOKEN)."""
    telegram = config.settings.telegram
    if telegram.token is None:
        return None
    return TelegramChannel(
        telegram.token.get_secret_value(),
        telegram.api_url,
        rate=telegram.rate,
        per_chat=telegram.per_chat_seconds,
    )


def channels_of(config: Config) -> dict[str, Channel]:
    """The configured channels by name, in order of preference: the console reaches whoever
    the others cannot.  Nothing is opened: a channel connects when a dispatch run opens it."""
    channels: list[Channel | None] = [telegram_channel(config), email_channel(config)]
    return {c.name: c for c in [*channels, ConsoleChannel()] if c is not None}


class Service:
    """The records, the plan and the channels of one process; ``clock`` is its only source
    of the time, so tests and `run --once --as-of` can set it."""

    def __init__(
        self, config: Config, clock: Callable[[], datetime], db: Database | None = None
    ) -> None:
        self.config = config
        self.clock = clock
        self.db = db or Database(config.settings.database.url)
        # Built once: the holidays of a year are computed on first use and kept.
        self.schedule = config.schedule()
        self.window = config.window()
        self.channels = channels_of(config)
        self.worker = outbox.worker_name()
        self._dispatching = threading.Lock()
        self.dispatcher = Dispatcher(
            self.db,
            config.catalog,
            self.schedule.calendar,
            self.window,
            self.channels,
            config.settings.service.language,
            self.worker,
            self.digest_for,
            config.settings.service.signature,
        )

    def start(self) -> None:
        """Bring the schema up to date and say what the service will work from.  A SQLite
        file is created on the first start only: one missing beside the lock file a
        scheduler left is a database lost, and an empty one in its place would run with no
        employees."""
        from scheduler.service.lock import lock_path

        lock = lock_path(self.db.url)
        if self.db.path is not None and not self.db.path.exists() and lock and lock.exists():
            raise DatabaseError("db_vanished", path=str(self.db.path), lock=str(lock))
        self.db.migrate()
        self.db.check_instance()  # notes the id: each tick and dispatch checks it again
        with self.db.read() as session:
            people = session.scalar(select(func.count()).select_from(models.Employee)) or 0
        log.info(
            "start database=%s employees=%d channels=%s window=%s-%s%s",
            self.db.safe_url,
            people,
            ",".join(self.channels),
            self.window.start.strftime("%H:%M"),
            self.window.end.strftime("%H:%M"),
            " working-days" if self.window.working_days_only else "",
        )
        if not people:
            log.warning("roster empty: import it with `tenggat import-iki FILE` or `tenggat demo`")

    def planned(self, now: datetime) -> tuple[Snapshot, Evaluation, list[Notice]]:
        """What the records say at ``now`` and the notices that should exist then."""
        with paused_gc():
            with self.db.read() as session:
                snap = records.snapshot(session, self.config.catalog, since_year=now.year - 1)
            evaluation = evaluate(self.schedule, snap.roster, snap.submissions, snap.events, now)
            return snap, evaluation, plan(self.schedule, snap.roster, evaluation)

    def tick(self, now: datetime | None = None, plan_too: bool = True) -> list[Notice]:
        """Plan at ``now`` what changed since the last plan (unless another instance
        schedules; `planning.plan_and_queue`), queue it, dispatch, and note the tick for
        `tenggat health`; return the notices planned (none when nothing changed).  A ``now``
        given is a replay (`run --once --as-of`), and health says so."""
        replay = now.isoformat() if now is not None else ""
        now = now or self.clock()
        self.db.check_instance()
        planned = planning.Planned(planning.Extent.NONE, 0, [], 0)
        queued = 0
        if plan_too:
            planned = planning.plan_and_queue(self.config, self.db, now)
            queued = planned.queued + self.queue_digests(now)
        sent = self._dispatch(now)
        summary = (
            f"plan={planned.scope} statuses={planned.statuses} planned={len(planned.notices)}"
            f" queued={queued} sent={sent}"
        )
        log.info("tick at=%s %s", now.isoformat(timespec="minutes"), summary)
        with self.db.write() as session:  # when it ran, not the moment it planned for
            state.record(session, state.LAST_TICK, summary, self.clock())
            state.record(session, state.LAST_TICK_AS_OF, replay, self.clock())
        return planned.notices

    def queue_digests(self, now: datetime) -> int:
        """Queue this week's digests once their moment ([digest] weekday and time) has
        passed.  Level-triggered like the reminders: a service that was down on Monday
        sends the week's digest when it comes back, and the ISO week in the key keeps it
        to once a week."""
        settings = self.config.settings.digest
        tz = self.schedule.calendar.tz
        today = now.astimezone(tz).date()
        day = today - timedelta(days=today.weekday() - settings.day_number)
        moment = datetime.combine(day, settings.time, tzinfo=tz)
        if now < moment:
            return 0
        week = iso_week(moment)
        rows = [
            outbox.digest_row(week, r.unit, r.key, day)
            for r in digest.recipients(self.db, settings.unit_heads)
        ]
        with self.db.write() as session:
            return outbox.add(session, rows, now)

    def digest_for(self, key: str, now: datetime) -> digest.Composed:
        """The digest recipient ``key`` reads, queued at ``now`` and read as it stood then
        (so a retry repeats no part): their unit's for a unit head (with [digest]
        unit_heads), the agency's otherwise."""
        unit_heads = self.config.settings.digest.unit_heads
        found = {r.key: r for r in digest.recipients(self.db, unit_heads)}
        recipient = found.get(key) or digest.Recipient(key, key, None, None, None)
        built = digest.build(self.config, self.db, now, recipient.unit, self.schedule, now)
        language = self.config.settings.service.language
        return digest.compose(built, recipient, self.config.catalog, language)

    def housekeeping(self, now: datetime) -> int:
        """Daily upkeep: forget link codes that expired unused a month ago (used ones stay,
        they say who linked which chat when) and, on SQLite, fold the write-ahead log back
        into the database file so it does not grow for ever.  Returns codes removed.  The
        outbox, the delivery log and the audit trail are records: they are never pruned.
        The changes a plan was made from are forgotten (`planning.forget_planned`)."""
        table = models.LinkCode
        with self.db.write() as session:
            old = delete(table).where(table.used_at.is_(None), table.expires_at < now - EXPIRED)
            removed = cast(CursorResult[Any], session.execute(old)).rowcount
            planning.forget_planned(session)
        if self.db.url.get_backend_name() == "sqlite":
            with self.db.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        log.info("housekeeping removed_link_codes=%d", removed)
        return removed

    def dispatch(self, now: datetime) -> int:
        """Send what the outbox holds for ``now`` (the sending job, every minute); return how
        many notices were sent.  Refused when the database behind the URL is no longer the
        one this process started on (`Database.check_instance`)."""
        self.db.check_instance()
        return self._dispatch(now)

    def _dispatch(self, now: datetime) -> int:
        """Send what the outbox holds for ``now``, the database checked already.  One
        dispatch at a time in a process: the planning and the sending jobs share a worker
        name, and the outbox tells workers apart by it."""
        with self._dispatching:
            return self.dispatcher.run(now)


class Busy(Exception):
    """Another `tenggat run` schedules from this SQLite file."""


# Starts what only the holder of the scheduler lock may run, and returns what stops it.
OnLead = Callable[[], Callable[[], None]]


class Leadership:
    """The scheduler lock, and what only its holder runs beside the jobs: the bot's polling,
    since Telegram lets one process at a time poll a bot (a second ``getUpdates`` gets 409
    Conflict).  That starts when this process takes the lock (at start or, standing by, at
    the tick that takes over) and stops when the lock is found lost and before it is given
    back, so a refused or standing-by instance never polls."""

    def __init__(self, lock: SchedulerLock, on_lead: OnLead | None = None) -> None:
        self.lock, self.on_lead = lock, on_lead
        self._halt: Callable[[], None] | None = None

    def check(self) -> bool:
        """Whether this process schedules now: it still holds the lock, or takes it now."""
        try:
            return self.lock.still_held() or self.lock.try_acquire()
        finally:  # also when the database is away: then the lock is lost
            if not self.lock.held:
                self._stop()
            elif self._halt is None and self.on_lead is not None:
                self._halt = self.on_lead()

    def release(self) -> None:
        """Stop what follows the lock, then give the lock back."""
        self._stop()
        self.lock.release()

    def _stop(self) -> None:
        halt, self._halt = self._halt, None
        if halt is not None:
            halt()


def run_forever(
    service: Service,
    every_minutes: int,
    on_lead: OnLead | None = None,
    surface: OnLead | None = None,
) -> None:
    """Tick now and every ``every_minutes`` until SIGTERM or Ctrl-C, then let a tick under way
    finish and exit normally.

    One instance schedules: it holds the scheduler lock (a file lock beside a SQLite
    database, an advisory lock on PostgreSQL).  On SQLite a second instance is refused
    (`Busy`); on PostgreSQL it stands by, only dispatching, and takes over at a tick after
    the holder is gone.  ``on_lead`` (the bot) runs only while the lock is held: see
    `Leadership`.  ``surface`` (the web application) runs from start to stop, on every
    instance.  The jobs run in APScheduler's background thread; the main thread
    only waits for a stop flag.  A signal handler that did more (shut the scheduler down
    itself) could interrupt the scheduler while it holds its executor's lock and deadlock.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    from scheduler.service.lock import SchedulerLock

    language = service.config.settings.service.language
    lead = Leadership(SchedulerLock(service.db, service.clock))
    if not lead.check():
        if lead.lock.backend == "sqlite":
            raise Busy(lead.lock.refusal(language))
        log.warning("standby: %s", lead.lock.refusal("en"))
    # The surface before the bot, whose webhook Telegram starts posting to at once.
    stop_surface = surface() if surface is not None else None
    lead.on_lead = on_lead
    lead.check()

    lost: list[DatabaseLost] = []
    stop: list[str] = []

    def lose(exc: DatabaseLost) -> None:
        """Nothing more may be written: say so once and stop the service, which exits 2."""
        log.error("%s", exc)
        lost.append(exc)
        stop.append("database-lost")

    def guarded(work: Callable[[], object]) -> Callable[[], None]:
        def job() -> None:
            try:
                work()
            except DatabaseLost as exc:
                lose(exc)
            except Exception as exc:  # logged and kept for `tenggat health`; retried next time
                failed(exc)

        return job

    def failed(exc: Exception) -> None:
        """One line for a database that is away or read-only (every tick says it again, a
        traceback would not add to it), the traceback for anything else; then the failure
        is kept for `tenggat health` if the database takes it."""
        said = failure(service.db.url, exc)
        if said is None:
            reason = f"{type(exc).__name__}: {exc}"
            log.exception("job failed")
        else:
            reason = str(said)  # in English, as the log and `tenggat health` keep it
            log.error("job failed: %s", reason)
        # Said above; if the database refuses it too, `tenggat health` finds that out.
        with contextlib.suppress(Exception), service.db.write() as session:
            state.record(session, state.LAST_ERROR, reason[:500], service.clock())

    def tick() -> None:
        service.tick(plan_too=lead.check())

    scheduler = BackgroundScheduler(
        timezone=service.config.settings.service.timezone,
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )

    def job(name: str, work: Callable[[], object], trigger: str, **when: Any) -> None:
        """Add ``work`` as the job ``name``, run through `guarded` like every job."""
        scheduler.add_job(guarded(work), trigger, id=name, replace_existing=True, **when)

    # Planning (and the week's digest) every `tick_minutes`; sending every minute, so a
    # message waiting for the window or a retry goes out within a minute of its time.
    job("plan", tick, "interval", minutes=every_minutes, next_run_time=service.clock())
    job("housekeeping", lambda: service.housekeeping(service.clock()), "cron", hour=2)
    job("dispatch", lambda: service.dispatch(service.clock()), "interval", minutes=1)

    def on_signal(signum: int, _frame: Any) -> None:
        stop.append(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    scheduler.start()
    log.info("running tick_every=%dmin (Ctrl-C to stop)", every_minutes)
    while not stop:
        time.sleep(0.2)
        try:  # a stat: a deleted database is noticed within the second, not at the next tick
            service.db.check_file()
        except DatabaseLost as exc:
            lose(exc)
    log.info("stop signal=%s", stop[0])
    scheduler.shutdown(wait=True)
    lead.release()  # the bot first: its last update is answered before the surface goes
    if stop_surface is not None:
        stop_surface()
    log.info("stopped")
    if lost:
        raise lost[0]
