"""The background service: look at the records on a schedule and tell people what is due.

Each tick reads the records, evaluates them, writes the notices that should exist now to
the outbox (idempotently) and dispatches what the outbox holds.  What is sent is decided by
those tables alone, so APScheduler's timing only decides *when we look*, and a restart
after downtime sends each open occurrence's newest step once.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from notifications.console import ConsoleChannel
from notifications.email import EmailChannel
from notifications.message import Channel
from notifications.telegram import TelegramChannel
from rules.evaluate import Evaluation, evaluate, paused_gc
from rules.plan import Notice, plan
from scheduler import health, models, outbox, records
from scheduler.config import Config
from scheduler.db import Database
from scheduler.dispatch import Dispatcher
from scheduler.records import Snapshot

log = logging.getLogger("tenggat")


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
        # In order of preference; the console reaches whoever the others cannot.
        channels: list[Channel | None] = [
            telegram_channel(config),
            email_channel(config),
            ConsoleChannel(),
        ]
        self.channels: dict[str, Channel] = {c.name: c for c in channels if c is not None}
        self.worker = outbox.worker_name()
        self.dispatcher = Dispatcher(
            self.db,
            config.catalog,
            self.schedule.calendar,
            self.window,
            self.channels,
            config.settings.service.language,
            self.worker,
        )

    def start(self) -> None:
        """Bring the schema up to date and say what the service will work from."""
        self.db.migrate()
        with self.db.read() as session:
            people = session.scalar(select(func.count()).select_from(models.Employee)) or 0
        log.info(
            "start database=%s employees=%d channels=%s window=%s-%s%s",
            self.db.url.render_as_string(hide_password=True),
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
        with paused_gc(), self.db.read() as session:
            snap = records.snapshot(session, self.config.catalog, since_year=now.year - 1)
        evaluation = evaluate(self.schedule, snap.roster, snap.submissions, snap.events, now)
        return snap, evaluation, plan(self.schedule, snap.roster, evaluation)

    def tick(self, now: datetime | None = None, plan_too: bool = True) -> list[Notice]:
        """Evaluate and plan at ``now`` (unless another instance schedules), queue the plan,
        dispatch, and note the tick for `tenggat health`; return the plan."""
        now = now or self.clock()
        statuses, queued = 0, 0
        notices: list[Notice] = []
        if plan_too:
            _, evaluation, notices = self.planned(now)
            statuses = len(evaluation.statuses)
            with self.db.write() as session:
                queued = outbox.enqueue(session, notices, now)
        sent = self.dispatch(now)
        summary = f"statuses={statuses} planned={len(notices)} queued={queued} sent={sent}"
        log.info("tick at=%s %s", now.isoformat(timespec="minutes"), summary)
        with self.db.write() as session:  # when it ran, not the moment it planned for
            health.record(session, health.LAST_TICK, summary, self.clock())
        return notices

    def dispatch(self, now: datetime) -> int:
        """Send what the outbox holds for ``now``; return how many notices were sent."""
        return self.dispatcher.run(now)


class Busy(Exception):
    """Another `tenggat run` schedules from this SQLite file."""


def run_forever(service: Service, every_minutes: int) -> None:
    """Tick now and every ``every_minutes`` until SIGTERM or Ctrl-C, then let a tick under way
    finish and exit normally.

    One instance schedules: it holds the scheduler lock (a file lock beside a SQLite
    database, an advisory lock on PostgreSQL).  On SQLite a second instance is refused
    (`Busy`); on PostgreSQL it stands by, only dispatching, and takes over at a tick after
    the holder is gone.  The jobs run in APScheduler's background thread; the main thread
    only waits for a stop flag.  A signal handler that did more (shut the scheduler down
    itself) could interrupt the scheduler while it holds its executor's lock and deadlock.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    from scheduler.lock import SchedulerLock

    language = service.config.settings.service.language
    lock = SchedulerLock(service.db)
    if lock.needed and not lock.try_acquire():
        if lock.backend == "sqlite":
            raise Busy(lock.refusal(language))
        log.warning("standby: %s", lock.refusal("en"))

    def job() -> None:
        try:
            schedules = not lock.needed or lock.still_held() or lock.try_acquire()
            service.tick(plan_too=schedules)
        except Exception as exc:  # logged and kept for `tenggat health`; the next tick retries
            log.exception("tick failed")
            with service.db.write() as session:
                reason = f"{type(exc).__name__}: {exc}"
                health.record(session, health.LAST_ERROR, reason[:500], service.clock())

    scheduler = BackgroundScheduler(
        timezone=service.config.settings.service.timezone,
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )
    scheduler.add_job(
        job,
        "interval",
        minutes=every_minutes,
        id="tick",
        replace_existing=True,
        next_run_time=service.clock(),
    )
    stop: list[str] = []

    def on_signal(signum: int, _frame: Any) -> None:
        stop.append(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server = health.serve_health(service.db, service.config)
    scheduler.start()
    log.info("running tick_every=%dmin (Ctrl-C to stop)", every_minutes)
    while not stop:
        time.sleep(0.2)
    log.info("stop signal=%s", stop[0])
    scheduler.shutdown(wait=True)
    if server is not None:
        server.shutdown()
        server.server_close()
    lock.release()
    log.info("stopped")
