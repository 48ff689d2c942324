"""The background service: look at the records on a schedule and tell people what is due.

Each tick reads the records, evaluates them and plans the notices that should exist now;
what is sent is decided by the plan alone, so APScheduler's timing only decides *when we
look*.  Until the durable outbox lands, a notice is sent once per process (its key is
remembered in memory), so a restart repeats the newest step of each open occurrence.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from notifications.console import ConsoleChannel, Message
from rules.evaluate import evaluate, paused_gc
from rules.plan import Notice, plan
from scheduler import models, records
from scheduler.config import Config
from scheduler.db import Database
from scheduler.words import notice_text

log = logging.getLogger("tenggat")


class Service:
    def __init__(self, config: Config, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.clock = clock
        self.db = Database(config.settings.database.url)
        self.channel = ConsoleChannel()
        self.sent: set[str] = set()

    def start(self) -> None:
        """Bring the schema up to date and say what the service will work from."""
        self.db.migrate()
        with self.db.read() as session:
            people = session.scalar(select(func.count()).select_from(models.Employee)) or 0
        log.info(
            "start database=%s employees=%d channel=%s",
            self.db.url.render_as_string(hide_password=True),
            people,
            self.channel.name,
        )
        if not people:
            log.warning("roster empty: import it with `tenggat import-iki FILE` or `tenggat demo`")

    def tick(self, now: datetime | None = None) -> list[Notice]:
        """Evaluate and plan at ``now``; send the notices not sent yet; return the plan."""
        now = now or self.clock()
        schedule = self.config.schedule()
        with paused_gc(), self.db.read() as session:
            snap = records.snapshot(session, self.config.catalog, since_year=now.year - 1)
        evaluation = evaluate(schedule, snap.roster, snap.submissions, snap.events, now)
        notices = plan(schedule, snap.roster, evaluation)
        language = self.config.settings.service.language
        fresh = [notice for notice in notices if notice.key not in self.sent]
        for notice in fresh:
            person = snap.employees.get(notice.recipient)
            subject = snap.employees.get(notice.employee)
            recipient = f"{person.name} ({person.key})" if person else notice.recipient
            text = notice_text(
                notice,
                self.config.catalog.get(notice.rule),
                subject.name if subject else notice.employee,
                language,
            )
            self.channel.send(Message(notice.key, recipient, text))
            self.sent.add(notice.key)
        log.info(
            "tick at=%s statuses=%d planned=%d sent=%d",
            now.isoformat(timespec="minutes"),
            len(evaluation.statuses),
            len(notices),
            len(fresh),
        )
        return notices


def run_forever(service: Service, every_minutes: int) -> None:
    """Tick now and every ``every_minutes`` until SIGTERM or Ctrl-C, then let a tick under way
    finish and exit normally.

    The jobs run in APScheduler's background thread; the main thread only waits for a stop
    flag.  A signal handler that did more (shut the scheduler down itself) could interrupt
    the scheduler while it holds its executor's lock and deadlock on it.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(
        timezone=service.config.settings.service.timezone,
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )
    scheduler.add_job(
        service.tick,
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
    scheduler.start()
    log.info("running tick_every=%dmin (Ctrl-C to stop)", every_minutes)
    while not stop:
        time.sleep(0.2)
    log.info("stop signal=%s", stop[0])
    scheduler.shutdown(wait=True)
    log.info("stopped")
