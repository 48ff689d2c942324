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
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notifications.console import ConsoleChannel
from notifications.email import EmailChannel
from notifications.message import DeliveryError, Message
from notifications.render import Item, render_html, render_text, subject
from rules.evaluate import Evaluation, evaluate, paused_gc
from rules.plan import Notice, plan
from scheduler import models, outbox, records
from scheduler.config import Config
from scheduler.db import Database
from scheduler.records import Snapshot
from scheduler.words import long_date, rule_name

log = logging.getLogger("tenggat")


def email_channel(config: Config) -> EmailChannel | None:
    """The configured SMTP server as a channel; None when no host is set."""
    smtp = config.settings.smtp
    if not smtp.host:
        return None
    password = smtp.password.get_secret_value() if smtp.password else None
    return EmailChannel(smtp.host, smtp.port, smtp.security, smtp.sender, smtp.username, password)


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
        self.channel = ConsoleChannel()  # for whoever no other channel reaches
        self.email = email_channel(config)
        self.worker = outbox.worker_name()

    def start(self) -> None:
        """Bring the schema up to date and say what the service will work from."""
        self.db.migrate()
        with self.db.read() as session:
            people = session.scalar(select(func.count()).select_from(models.Employee)) or 0
        channels = [self.channel.name] + ([self.email.name] if self.email else [])
        log.info(
            "start database=%s employees=%d channels=%s",
            self.db.url.render_as_string(hide_password=True),
            people,
            ",".join(channels),
        )
        if not people:
            log.warning("roster empty: import it with `tenggat import-iki FILE` or `tenggat demo`")

    def planned(self, now: datetime) -> tuple[Snapshot, Evaluation, list[Notice]]:
        """What the records say at ``now`` and the notices that should exist then."""
        with paused_gc(), self.db.read() as session:
            snap = records.snapshot(session, self.config.catalog, since_year=now.year - 1)
        evaluation = evaluate(self.schedule, snap.roster, snap.submissions, snap.events, now)
        return snap, evaluation, plan(self.schedule, snap.roster, evaluation)

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
        """Send what the outbox holds for now, one message per person, by e-mail where an
        address and an SMTP server are known, else on the console; return how many notices
        were sent."""
        sent = 0
        while True:
            with self.db.write() as session:
                batch = outbox.claim(session, self.worker, now)
                contacts = contacts_of(session, batch)
            if not batch:
                return sent
            with contextlib.ExitStack() as stack:
                opened: dict[str, Exception | None] = {}
                for message, items in self.compose(batch, contacts):
                    channel: ConsoleChannel | EmailChannel = self.channel
                    if message.address and self.email is not None:
                        channel = self.email
                        if channel.name not in opened:  # one connection for the batch
                            opened[channel.name] = _opened(stack, self.email)
                    receipt, error = None, opened.get(channel.name)
                    if error is None:
                        try:
                            receipt = channel.send(message)
                        except Exception as exc:  # a channel failing is recorded, never fatal
                            error = exc
                    permanent = isinstance(error, DeliveryError) and error.permanent
                    reason = f"{type(error).__name__}: {error}" if error else None
                    if reason:
                        log.warning(
                            "send failed to=%s channel=%s notices=%d permanent=%s reason=%s",
                            message.recipient, channel.name, len(items), permanent, reason,
                        )  # fmt: skip
                    with self.db.write() as session:
                        for item in items:
                            state = outbox.settle(
                                session, item, self.worker, channel.name, now, receipt, reason,
                                permanent,
                            )  # fmt: skip
                            sent += state == "sent"

    def compose(
        self, entries: Sequence[E], contacts: Mapping[str, tuple[str, str | None]]
    ) -> list[tuple[Message, list[E]]]:
        """Everything each recipient is owed, as one message in the configured language."""
        language = self.config.settings.service.language
        catalog = self.config.catalog
        grouped: dict[str, list[E]] = defaultdict(list)
        for entry in entries:
            grouped[entry.recipient].append(entry)

        def name(key: str) -> str:
            return contacts[key][0] if key in contacts else key

        composed = []
        for recipient, group in grouped.items():
            items = [
                Item(
                    kind=str(entry.kind),
                    rule=rule_name(catalog.get(entry.rule), language),
                    period=entry.period,
                    due=long_date(entry.due, language),
                    days_late=entry.days_late,
                    subject=name(entry.employee),
                )
                for entry in group
            ]
            message = Message(
                recipient=f"{name(recipient)} ({recipient})",
                text=render_text(name(recipient), items, language),
                keys=tuple(entry.key for entry in group),
                subject=subject(items, language),
                html=render_html(name(recipient), items, language),
                address=(contacts.get(recipient, ("", None))[1] or "") if self.email else "",
            )
            composed.append((message, group))
        return composed


def _opened(stack: contextlib.ExitStack, channel: EmailChannel) -> Exception | None:
    """Open a channel for the rest of the batch; the error, if it cannot be opened."""
    try:
        stack.enter_context(channel)
    except DeliveryError as exc:
        return exc
    return None


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


def contacts_of(session: Session, entries: Sequence[Entry]) -> dict[str, tuple[str, str | None]]:
    """Name and e-mail of everyone the entries mention, in one query."""
    keys = {e.recipient for e in entries} | {e.employee for e in entries}
    table = models.Employee
    query = select(table.key, table.name, table.email).where(table.key.in_(keys))
    return {key: (name, email) for key, name, email in session.execute(query)}


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
