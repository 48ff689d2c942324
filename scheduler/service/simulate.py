"""``tenggat simulate``: the messages a period of ticks would send, from one read of the data.

The records are read once (``records.snapshot``) and nothing is written: the replay itself
is pure (rules/timeline.py).  This module adds what the database knows beyond the records,
namely how each person is reached (`scheduler.store.contacts`, as the dispatcher reaches
them, over the channels the service would build), and the weekly digests the service
queues, and groups the notices into messages as the dispatcher does: one per person and
sending run, a digest on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from rules.calendar import SendingWindow
from rules.timeline import Queued, Ticks, by_send, replay, weekly
from scheduler.config import Config
from scheduler.memory import paused_gc
from scheduler.service.tick import channels_of
from scheduler.store import outbox, records
from scheduler.store.contacts import Contact, find_contacts, route
from scheduler.store.db import Database


class Digest(NamedTuple):
    """A weekly digest in the timeline: its outbox key, ISO week and scope (None: the
    whole agency, else a unit's, for its head)."""

    key: str
    week: str
    unit: str | None
    queued: datetime


@dataclass(frozen=True)
class Message:
    """One message that would go out: when, to whom, by which channel, and what it carries
    (notices, or one digest)."""

    at: datetime
    recipient: str
    person: Contact
    channel: str
    notices: list[Queued]
    digest: Digest | None = None


@dataclass(frozen=True)
class Simulation:
    first: date
    last: date
    start: datetime  # the first tick, at the start of ``first``
    end: datetime  # the end of ``last``: no tick at or after it
    tick_minutes: int
    window: SendingWindow
    channels: list[str]
    messages: list[Message]
    people: dict[str, Contact]

    @property
    def notices(self) -> int:
        return sum(len(m.notices) for m in self.messages)

    @property
    def digests(self) -> int:
        return sum(m.digest is not None for m in self.messages)

    @property
    def recipients(self) -> int:
        return len({m.recipient for m in self.messages})

    @property
    def after_period(self) -> int:
        """Messages queued in the period that wait for an opening after it."""
        return sum(m.at >= self.end for m in self.messages)


def simulate(config: Config, db: Database, first: date, last: date) -> Simulation:
    """The messages the service would send, ticking every ``tick_minutes`` from the start of
    ``first`` to the end of ``last`` (local time) on the records as they are, starting from
    an empty outbox.  Reads the records once (one snapshot, and who is reached how); writes
    nothing."""
    from scheduler.reports import digest

    schedule = config.schedule()
    tz = schedule.calendar.tz
    start = datetime.combine(first, time(0), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    every = timedelta(minutes=config.settings.service.tick_minutes)
    window = config.window()
    settings = config.settings.digest
    with paused_gc(), db.read() as session:
        snap = records.snapshot(session, config.catalog, since_year=first.year - 1)
        people = find_contacts(session)  # as the dispatcher looks them up: active or not
    readers = digest.recipients(db, settings.unit_heads)
    with paused_gc():
        queued = replay(
            schedule, snap.roster, snap.submissions, snap.events, start, end, every, window
        )
    channels = list(channels_of(config))

    def reach(key: str) -> Contact:
        return people.get(key) or Contact(key)

    ticks = Ticks(start, every)
    # (sending tick, order) → message: the order keeps a digest after the notices of its run
    found: list[tuple[datetime, int, Message]] = []
    for sent, recipient, entries in by_send(queued):
        person = reach(recipient)
        message = Message(sent, recipient, person, route(person, channels)[0], entries)
        found.append((sent, 0, message))
    for week, tick in weekly(ticks, end, settings.day_number, settings.time, tz):
        sent = ticks.sending(tick, schedule.calendar, window)
        for reader in readers:
            item = Digest(outbox.digest_key(week, reader.unit, reader.key), week, reader.unit, tick)
            person = reach(reader.key)
            found.append(
                (sent, 1, Message(sent, reader.key, person, route(person, channels)[0], [], item))
            )
    found.sort(key=lambda entry: (entry[0], entry[1]))  # stable: the run's order within
    messages = [message for _, _, message in found]
    return Simulation(
        first,
        last,
        start,
        end,
        config.settings.service.tick_minutes,
        window,
        channels,
        messages,
        people,
    )
