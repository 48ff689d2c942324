"""The dispatcher: from outbox rows to messages people receive, and back to the outbox.

It claims what is due, groups it into one message per person, picks the channel that
reaches them (Telegram, else e-mail, else the console), renders for that channel, and hands
each channel its batch.  Results are recorded as they arrive, by a thread of their own in
group commits, so a process killed mid-batch repeats at most the messages in flight, and
whatever it had not sent is claimed again once its lease runs out.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time
from typing import Generic, NamedTuple, Protocol, TypeVar

from sqlalchemy import update
from sqlalchemy.orm import Session

from notifications.message import (
    MAX_BUTTONS,
    Channel,
    Closing,
    DeliveryError,
    Message,
    Progress,
)
from notifications.render import HTML, TELEGRAM, TEXT, Item, Letter, render, subject
from rules.calendar import LegalCalendar, SendingWindow
from rules.catalog import Catalog
from rules.plan import NoticeKind
from scheduler.bot.buttons import report_button
from scheduler.reports.digest import Composed
from scheduler.store import models, outbox, records
from scheduler.store.contacts import Contact, find_contacts, route
from scheduler.store.db import Database
from scheduler.words import LETTER, long_date, period_name, rule_name, title

log = logging.getLogger("tenggat")
# People in a run's first batch: small, so that sending starts while the next is composed.
FIRST_BATCH = 50
# What a person is told about their own obligations (an escalation is about someone else's).
OWN = frozenset({NoticeKind.REMINDER, NoticeKind.DUE_TODAY, NoticeKind.OVERDUE})
LAST_MINUTE = time(23, 59)  # "sampai pukul 23.59 WITA": a due day ends at midnight


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
    @property
    def planned_at(self) -> datetime: ...


E = TypeVar("E", bound=Entry)


class Outgoing(NamedTuple, Generic[E]):
    """A message ready for one channel and the outbox rows (or notices) it carries."""

    channel: str
    message: Message
    entries: list[E]


def contacts_of(session: Session, entries: Sequence[Entry]) -> dict[str, Contact]:
    """How to reach everyone the entries mention (recipients and whom they are told about),
    in one query."""
    return find_contacts(session, {e.recipient for e in entries} | {e.employee for e in entries})


class Dispatcher:
    """Claims, composes, routes, sends and records; ``channels`` in order of preference."""

    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        calendar: LegalCalendar,
        window: SendingWindow,
        channels: dict[str, Channel],
        language: str,
        worker: str,
        digests: Callable[[str, datetime], Composed] | None = None,
        signature: str = "Sekretariat",
    ) -> None:
        self.db, self.catalog, self.calendar, self.window = db, catalog, calendar, window
        self.channels, self.language, self.worker = channels, language, worker
        self.signature = signature  # who signs a letter: the agency's secretariat
        # Renders a recipient's weekly digest as of a moment: the one it was queued at.
        self.digests = digests

    def run(self, now: datetime) -> int:
        """Send what the outbox holds for ``now``; return how many notices were sent.
        Outside the sending window nothing is claimed: the rows wait for the next opening."""
        if self.calendar.sending_window(now, self.window) != now:
            return 0
        sent = 0
        with contextlib.ExitStack() as stack, ThreadPoolExecutor(1, "tenggat-claim") as ahead:
            opened: dict[str, Channel | DeliveryError] = {}
            batch = self._claim(now, FIRST_BATCH)
            while batch:
                for name in batch:
                    if name not in opened:  # one connection for the whole run
                        opened[name] = _opened(stack, self.channels[name])
                # The next batch is claimed and composed while this one goes out: paced
                # sending leaves the process idle, and a pause between batches loses slots.
                following = ahead.submit(self._claim, now)
                with Recorder(self.db, self.worker, now, self._unreachable) as recorder:
                    for name, outgoing in batch.items():
                        self._send(name, opened[name], outgoing, recorder)
                sent += recorder.states.count("sent")
                # Claimed before this batch was settled: when it found nothing, look again
                # for what this batch put back (rerouted from a dead chat) or added.
                batch = following.result() or self._claim(now)
            return sent

    def _claim(
        self, now: datetime, recipients: int = outbox.BATCH
    ) -> dict[str, list[Outgoing[outbox.Claimed]]]:
        """The next batch from the outbox, composed, by channel; empty when nothing is due."""
        with self.db.write() as session:
            batch = outbox.claim(session, self.worker, now, recipients)
            contacts = contacts_of(session, batch)
        return _by_channel(self.compose(batch, contacts))

    def _send(
        self,
        name: str,
        channel: Channel | DeliveryError,
        outgoing: list[Outgoing[outbox.Claimed]],
        recorder: Recorder,
    ) -> None:
        def report(index: int, result: str | DeliveryError | Progress) -> None:
            if isinstance(result, Progress):
                recorder.put_parts([(e, result.delivered) for e in outgoing[index].entries])
            else:
                recorder.put(_attempts(name, outgoing[index], result))

        if isinstance(channel, DeliveryError):  # it could not be opened
            for index in range(len(outgoing)):
                report(index, channel)
        else:
            channel.deliver([o.message for o in outgoing], report)

    def _unreachable(
        self, session: Session, attempts: Sequence[outbox.Attempt], now: datetime
    ) -> None:
        """Chats Telegram cannot reach: remember why (their rows were put back for e-mail)
        and tell the admins, once per person and day."""
        dead = {a.item.recipient: a.error or "" for a in attempts if a.reroute}
        if not dead:
            return
        table = models.Employee
        for key, reason in dead.items():
            session.execute(
                update(table).where(table.key == key).values(telegram_unreachable=reason[:300])
            )
            log.warning("telegram unreachable recipient=%s reason=%s", key, reason)
        admins = records.admins(session)
        today = now.astimezone(self.calendar.tz).date()
        rows = [
            outbox.contact_row(key, admin, "telegram", today)
            for key in dead
            for admin in admins
            if admin != key
        ]
        outbox.add(session, rows, now)

    def compose(
        self, entries: Sequence[E], contacts: Mapping[str, Contact], today: date | None = None
    ) -> list[Outgoing[E]]:
        """Everything each recipient is owed, as one message in the configured language,
        rendered for the channel that reaches them; a weekly digest is a message of its own,
        rendered as of the moment it was queued.  A reminder counts its days left from
        ``today`` (a dry run's), else from the moment its notice was queued, so that a retry
        on a later day reads the same (its parts already delivered are known by their text)."""
        language = self.language
        grouped: dict[str, list[E]] = defaultdict(list)
        for entry in entries:
            grouped[entry.recipient].append(entry)

        def contact(key: str) -> Contact:
            return contacts.get(key) or Contact(key)

        composed = []
        for recipient, everything in grouped.items():
            person = contact(recipient)
            name, address = route(person, self.channels)
            group = [entry for entry in everything if entry.kind != "digest"]
            for entry in everything:
                if entry.kind == "digest":
                    composed.append(self._digest(entry, person, name, address))
            if not group:
                continue
            items = [self._item(entry, contact(entry.employee), today) for entry in group]
            letter = Letter(
                recipient=person.name,
                title=title(person.nip, language),
                items=items,
                words=LETTER[language],
                sender=self.signature,
                zone=self.calendar.at(group[0].due, LAST_MINUTE).tzname() or "",
            )
            template = {"telegram": TELEGRAM, "email": HTML}.get(name)
            message = Message(
                recipient=f"{person.name} ({recipient})",
                text=render(TEXT, letter),
                keys=tuple(entry.key for entry in group),
                subject=subject(letter),
                html=render(template, letter) if template else "",
                address=address,
                buttons=self._report_buttons(group),
                skip=_delivered(group),
            )
            composed.append(Outgoing(name, message, group))
        return composed

    def _item(self, entry: Entry, subject: Contact, today: date | None) -> Item:
        """One line of a letter in the reader's language."""
        language = self.language
        written = today or entry.planned_at.astimezone(self.calendar.tz).date()
        rule = self.catalog.get(entry.rule) if entry.rule else None
        return Item(
            kind=str(entry.kind),
            rule=rule_name(rule, language) if rule else "",
            period=self._period(entry.rule, entry.period) if entry.rule else entry.period,
            due=long_date(entry.due, language),
            days_late=entry.days_late,
            subject=subject.name,
            subject_key=entry.employee,
            detail=subject.problem,
            days_left=(entry.due - written).days,
            measured=rule is not None and rule.measured,
        )

    def _period(self, code: str, period: str) -> str:
        return period_name(self.catalog.get(code), period, self.language)

    def _report_buttons(self, entries: Sequence[Entry]) -> tuple[tuple[str, str], ...]:
        """A "Sudah lapor" button for each obligation the recipient owes themselves, so a
        reminder is answered with one press.  None for the staff's items of an escalation:
        a button reports for whoever presses it, and only the staff member may report."""
        owed = dict.fromkeys((e.rule, e.period) for e in entries if e.kind in OWN)
        buttons = [
            report_button(code, period, self._period(code, period), self.language)
            for code, period in owed
        ]
        return tuple(buttons[:MAX_BUTTONS])

    def _digest(self, entry: E, person: Contact, channel: str, address: str) -> Outgoing[E]:
        """The digest of an outbox row, as of the moment it was queued, not the moment it
        is sent: a retry then reads the same, and the parts an earlier attempt delivered
        are recognised (`Message.skip`) instead of going again with a new time in them."""
        if self.digests is None or not isinstance(entry, outbox.Claimed):
            raise RuntimeError("a digest is sent from the outbox, by a dispatcher that renders it")
        digest = self.digests(entry.recipient, entry.planned_at.astimezone(self.calendar.tz))
        email = channel == "email"
        message = Message(
            recipient=f"{person.name} ({entry.recipient})",
            text=digest.text,  # compact: Telegram escapes it, e-mail sends it as plain text
            keys=(entry.key,),
            subject=digest.subject,
            html=digest.html if email else "",
            address=address,
            attachments=((digest.filename, digest.csv, "text/csv"),) if email else (),
            images=tuple((p.cid, p.png) for p in digest.pictures) if email else (),
            skip=_delivered([entry]),
        )
        return Outgoing(channel, message, [entry])


_Parts = list[tuple[outbox.Claimed, tuple[str, ...]]]  # rows and the parts of their message sent


class Recorder(Closing):
    """Writes attempts to the outbox as they are reported, from a thread of its own: each
    commit takes whatever arrived meanwhile (a group commit), so recording keeps up with a
    fast channel and lags a slow one by one message at most.  The parts of a message that
    went out before the rest are kept too (`put_parts`)."""

    def __init__(
        self,
        db: Database,
        worker: str,
        now: datetime,
        after: Callable[[Session, Sequence[outbox.Attempt], datetime], None],
    ) -> None:
        self.db, self.worker, self.now, self.after = db, worker, now, after
        self.states: list[str] = []
        self._queue: queue.SimpleQueue[list[outbox.Attempt] | tuple[_Parts] | None]
        self._queue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="tenggat-recorder", daemon=True)
        self._failure: BaseException | None = None

    def open(self) -> None:
        """Start the recording thread."""
        self._thread.start()

    def close(self) -> None:
        """Wait for everything reported to be written; a failure to write is raised here."""
        self._queue.put(None)
        self._thread.join()
        if self._failure is not None:
            raise self._failure

    def put(self, attempts: list[outbox.Attempt]) -> None:
        self._queue.put(attempts)

    def put_parts(self, parts: _Parts) -> None:
        self._queue.put((parts,))

    def _run(self) -> None:
        done = False
        while not done:
            group: list[outbox.Attempt] = []
            parts: _Parts = []
            item = self._queue.get()
            while item is not None:
                if isinstance(item, tuple):
                    parts += item[0]
                else:
                    group += item
                if self._queue.empty():
                    break
                item = self._queue.get()
            done = item is None
            if not (group or parts) or self._failure is not None:
                continue
            try:
                with self.db.write() as session:
                    if parts:
                        outbox.keep_parts(session, parts, self.worker)
                    if group:
                        self.states += outbox.settle(session, group, self.worker, self.now)
                        self.after(session, group, self.now)
            except Exception as exc:  # raised again in the dispatcher's thread
                self._failure = exc


def _by_channel(outgoing: Sequence[Outgoing[E]]) -> dict[str, list[Outgoing[E]]]:
    grouped: dict[str, list[Outgoing[E]]] = defaultdict(list)
    for o in outgoing:
        grouped[o.channel].append(o)
    return grouped


def _delivered(entries: Sequence[Entry]) -> frozenset[str]:
    """The parts of their message that earlier attempts delivered (`Message.skip`): known
    only of rows claimed from the outbox; a planned notice (`tenggat plan`) has none."""
    claimed = [e.delivered_parts for e in entries if isinstance(e, outbox.Claimed)]
    return frozenset().union(*claimed)


def _opened(stack: contextlib.ExitStack, channel: Channel) -> Channel | DeliveryError:
    """Open a channel for the rest of the run; the error, if it cannot be opened."""
    try:
        return stack.enter_context(channel)
    except DeliveryError as exc:
        log.warning("channel %s cannot be opened: %s", channel.name, exc)
        return exc


def _attempts(
    channel: str, outgoing: Outgoing[outbox.Claimed], result: str | DeliveryError
) -> list[outbox.Attempt]:
    """One attempt per outbox row of a message; a failure is logged once, on one line."""
    if not isinstance(result, DeliveryError):
        return [outbox.Attempt(item, channel, receipt=result) for item in outgoing.entries]
    log.warning(
        "send failed to=%s channel=%s notices=%d permanent=%s reason=%s",
        outgoing.message.recipient, channel, len(outgoing.entries), result.permanent, result,
    )  # fmt: skip
    return [
        outbox.Attempt(
            item,
            channel,
            error=str(result),
            permanent=result.permanent,
            retry_after=result.retry_after,
            reroute=result.unreachable and channel == "telegram",
        )
        for item in outgoing.entries
    ]
