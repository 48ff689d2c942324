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
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notifications.console import ConsoleChannel, Message
from notifications.render import Item, render_text
from rules.evaluate import Evaluation, evaluate, paused_gc
from rules.plan import Notice, plan
from scheduler import models, outbox, records
from scheduler.config import Config
from scheduler.db import Database
from scheduler.records import Snapshot
from scheduler.words import long_date, rule_name

log = logging.getLogger("tenggat")


class Service:
    def __init__(self, config: Config, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.clock = clock
        self.db = Database(config.settings.database.url)
        self.channel = ConsoleChannel()
        self.worker = outbox.worker_name()

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

    def planned(self, now: datetime) -> tuple[Snapshot, Evaluation, list[Notice]]:
        """What the records say at ``now`` and the notices that should exist then."""
        schedule = self.config.schedule()
        with paused_gc(), self.db.read() as session:
            snap = records.snapshot(session, self.config.catalog, since_year=now.year - 1)
        evaluation = evaluate(schedule, snap.roster, snap.submissions, snap.events, now)
        return snap, evaluation, plan(schedule, snap.roster, evaluation)

    def tick(self, now: datetime | None = None) -> list[Notice]:
        """Evaluate and plan at ``now``, queue the plan, dispatch; return the plan."""
        now = now or self.clock()
        _, evaluation, notices = self.planned(now)
        with self.db.write() as session:
            queued = outbox.enqueue(session, notices, now)
        sent = self.dispatch(now)
        log.info(
            "tick at=%s statuses=%d planned=%d queued=%d sent=%d",
            now.isoformat(timespec="minutes"),
            len(evaluation.statuses),
            len(notices),
            queued,
            sent,
        )
        return notices

    def dispatch(self, now: datetime) -> int:
        """Send what the outbox holds for now, one message per person; return how many
        notices were sent."""
        sent = 0
        while True:
            with self.db.write() as session:
                batch = outbox.claim(session, self.worker, now)
                names = names_of(session, batch)
            if not batch:
                return sent
            for message, items in self.compose(batch, names):
                try:
                    receipt, error = self.channel.send(message), None
                except Exception as exc:  # a channel failing is recorded, never fatal
                    receipt, error = None, f"{type(exc).__name__}: {exc}"
                with self.db.write() as session:
                    for item in items:
                        state = outbox.settle(
                            session, item, self.worker, self.channel.name, now, receipt, error
                        )
                        sent += state == "sent"

    def compose(
        self, entries: Sequence[E], names: Mapping[str, str]
    ) -> list[tuple[Message, list[E]]]:
        """Everything each recipient is owed, as one message in the configured language."""
        language = self.config.settings.service.language
        catalog = self.config.catalog
        grouped: dict[str, list[E]] = defaultdict(list)
        for entry in entries:
            grouped[entry.recipient].append(entry)
        composed = []
        for recipient, group in grouped.items():
            items = [
                Item(
                    kind=str(entry.kind),
                    rule=rule_name(catalog.get(entry.rule), language),
                    period=entry.period,
                    due=long_date(entry.due, language),
                    days_late=entry.days_late,
                    subject=names.get(entry.employee, entry.employee),
                )
                for entry in group
            ]
            name = names.get(recipient, recipient)
            text = render_text(name, items, language)
            keys = tuple(entry.key for entry in group)
            composed.append((Message(f"{name} ({recipient})", text, keys), group))
        return composed


class Entry(Protocol):
    """What a message needs of a notice, planned or claimed from the outbox."""

    @property
    def key(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def employee(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def rule(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def due(self) -> date: ...
    @property
    def days_late(self) -> int | None: ...


E = TypeVar("E", bound=Entry)


def names_of(session: Session, entries: Sequence[Entry]) -> dict[str, str]:
    """The names of everyone the entries mention, in one query."""
    keys = {e.recipient for e in entries} | {e.employee for e in entries}
    query = select(models.Employee.key, models.Employee.name).where(models.Employee.key.in_(keys))
    return {key: name for key, name in session.execute(query)}


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
