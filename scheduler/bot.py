"""The two-way Telegram bot: linking chats to employees (and /putus, unlinking one's own),
/status, /lapor (also from a reminder's "Sudah lapor" button), /verifikasi, /rekap.

`handle` turns one Bot API update (a dict, as Telegram sends it) into database effects and
the replies to send; it reads no clock and sends nothing, so the tests drive it directly and
through the fake Bot API alike.  Everything it does, and everything it refuses, leaves one
row in ``bot_audit``.  Submissions go through `records.record_submission`, the command
line's own path, with source ``telegram`` and ``recorded_by`` ``telegram:<chat>``.

`Poller` long-polls ``getUpdates``.  Telegram forgets an update once a later ``offset`` is
asked for, so the offset (``service_state`` ``telegram_offset``) advances in the same
transaction as the update's effects: an update is acknowledged only after it is handled and
committed, and one handled twice (a crash between commit and the next poll) is skipped.
`tenggat run` polls only while it holds the scheduler lock (`service.Leadership`), since
Telegram answers a second poller of one bot with 409 Conflict.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import json
import logging
import re
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rules.evaluate import OPEN, Status
from rules.periods import period_year
from scheduler import health, models, records
from scheduler.bot_words import WORDS as _WORDS
from scheduler.words import STATUS, long_date, rule_name

if TYPE_CHECKING:
    from rules.schedule import Schedule
    from scheduler.config import Config
    from scheduler.db import Database

log = logging.getLogger("tenggat")

OFFSET = "telegram_offset"  # service_state: the last update id handled and committed
ALLOWED_UPDATES = ["message", "callback_query"]  # all the bot answers; Telegram drops the rest
SOURCE = "telegram"
_CODE = re.compile(r"[A-Za-z0-9_-]{8,64}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORWARDED = ("forward_origin", "forward_date", "forward_from", "forward_from_chat")
MAX_TEXT = 4096  # Telegram's own limit on a message


@dataclass(frozen=True)
class BotSettings:
    """``[bot]`` of the configuration, in the forms the bot works with."""

    link_hours: int = 72  # how long a link code is valid
    groups: frozenset[str] = frozenset()  # group chat ids the bot answers; others are ignored
    flood_count: int = 20  # updates from one chat within flood_seconds before it is throttled
    flood_seconds: int = 60
    poll_seconds: int = 10  # long-polling timeout of one getUpdates
    max_evidence: int = 1000  # characters of a text given as evidence
    webhook_url: str = ""  # where Telegram posts updates; empty: long polling
    webhook_listen: str = "127.0.0.1"  # the address the webhook server binds
    webhook_port: int = 8443


def settings_of(config: Config) -> BotSettings:
    """``[bot]`` of the configuration (validated there) as the bot uses it."""
    section = config.settings.bot
    return BotSettings(
        link_hours=section.link_hours,
        groups=frozenset(section.groups),
        flood_count=section.flood_count,
        flood_seconds=section.flood_seconds,
        poll_seconds=section.poll_seconds,
        max_evidence=section.max_evidence,
        webhook_url=section.webhook_url,
        webhook_listen=section.webhook_listen,
        webhook_port=section.webhook_port,
    )


Button = tuple[str, str]  # label, callback data (at most 64 bytes)


class Reply(NamedTuple):
    """One thing to send: a message (HTML, values escaped) with optional inline buttons,
    and/or the answer to a callback query (stops the pressed button's spinner)."""

    chat: str
    text: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()
    callback: str = ""


def report_button(code: str, period: str, language: str = "id") -> Button:
    """The 'Sudah lapor' button of one reminder item: pressing it starts /lapor for it."""
    return (
        _WORDS[language]["done_button"].format(code=code, period=period),
        f"lapor:{code}:{period}",
    )


def _esc(text: str) -> str:
    """A value for a message in HTML parse mode (quotes need no escaping there)."""
    return html.escape(text, quote=False)


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


# --------------------------------------------------------------------------- link codes


class IssuedCode(NamedTuple):
    employee: str  # key
    name: str
    unit: str
    code: str
    expires_at: datetime


def issue_code(
    session: Session, employee: models.Employee, now: datetime, hours: int, by: str
) -> IssuedCode:
    """A new one-time code for ``employee`` (128 random bits); their older unused codes stop
    working, so only the newest list handed out counts."""
    table = models.LinkCode
    for older in session.scalars(
        select(table).where(
            table.employee_id == employee.id, table.used_at.is_(None), table.expires_at > now
        )
    ):
        older.expires_at = now
    code = secrets.token_urlsafe(16)
    expires = now + timedelta(hours=hours)
    session.add(
        table(
            code_hash=hash_code(code),
            employee_id=employee.id,
            created_at=now,
            expires_at=expires,
            created_by=by,
        )
    )
    audit(
        session,
        now,
        None,
        employee.id,
        "link_code",
        f"by {by}, valid until {expires:%Y-%m-%d %H:%M}",
    )
    unit = employee.unit.name if employee.unit else ""
    return IssuedCode(employee.key, employee.name, unit, code, expires)


def unlink(session: Session, employee: models.Employee, now: datetime) -> str | None:
    """Forget ``employee``'s chat and revoke their unused codes; return the chat it had.
    The caller audits it: the bot as the update that asked, the command line as its user."""
    chat = employee.telegram_chat_id
    employee.telegram_chat_id = None
    employee.telegram_unreachable = None
    table = models.LinkCode
    for row in session.scalars(
        select(table).where(
            table.employee_id == employee.id, table.used_at.is_(None), table.expires_at > now
        )
    ):
        row.expires_at = now
    if chat is not None:
        state = session.get(models.BotChat, chat)
        if state is not None:
            session.delete(state)
    return chat


def deep_link(username: str, code: str) -> str:
    return f"https://t.me/{username}?start={code}"


def audit(
    session: Session,
    now: datetime,
    chat: str | None,
    employee_id: int | None,
    action: str,
    detail: str = "",
    update_id: int | None = None,
) -> None:
    session.add(
        models.BotAudit(
            at=now,
            update_id=update_id,
            chat_id=chat,
            employee_id=employee_id,
            action=action,
            detail=detail[:500],
        )
    )


# --------------------------------------------------------------------------- verification


def pending_verification(
    session: Session, config: Config, limit: int = 10
) -> list[models.Submission]:
    """The newest row of each (employee or agency, rule, period) of a rule that needs
    verification, when it is not verified yet; oldest first."""
    codes = [r.code for r in config.catalog.rules.values() if r.verification]
    if not codes:
        return []
    table = models.Submission
    newest = (
        select(func.max(table.id))
        .where(table.rule_code.in_(codes))
        .group_by(table.employee_id, table.rule_code, table.period)
    )
    return list(
        session.scalars(
            select(table)
            .where(table.id.in_(newest), table.verified_at.is_(None))
            .order_by(table.id)
            .limit(limit)
        )
    )


def newest_submission(
    session: Session, employee_id: int | None, code: str, period: str
) -> models.Submission | None:
    table = models.Submission
    owner = table.employee_id.is_(None) if employee_id is None else table.employee_id == employee_id
    return session.scalar(
        select(table)
        .where(owner, table.rule_code == code, table.period == period)
        .order_by(table.id.desc())
        .limit(1)
    )


def verify(
    session: Session, row: models.Submission, now: datetime, by: str, source: str
) -> models.Submission:
    """Verify a pending submission: rows are never changed, so a new row repeats it (same
    moment, same evidence) with the verification."""
    verified = models.Submission(
        employee_id=row.employee_id,
        rule_code=row.rule_code,
        period=row.period,
        submitted_at=row.submitted_at,
        evidence=row.evidence,
        source=source,
        recorded_by=by,
        recorded_at=now,
        verified_at=now,
        verified_by=by,
    )
    session.add(verified)
    session.flush()
    return verified


# --------------------------------------------------------------------------- the handler

_SCHEDULES: dict[int, tuple[Config, Schedule]] = {}


def _schedule(config: Config) -> Schedule:
    """One schedule (and holiday cache) per configuration."""
    found = _SCHEDULES.get(id(config))
    if found is None or found[0] is not config:
        found = _SCHEDULES[id(config)] = (config, config.schedule())
    return found[1]


@dataclass
class _Turn:
    """One update being handled: who, where, and what to answer and audit."""

    session: Session
    config: Config
    settings: BotSettings
    now: datetime
    language: str
    chat: str
    employee: models.Employee | None
    replies: list[Reply] = field(default_factory=list)
    action: str = "ignored"
    detail: str = ""

    def w(self, word: str, /, **params: Any) -> str:
        return _WORDS[self.language][word].format(**params)

    def say(
        self, word: str, /, buttons: tuple[tuple[Button, ...], ...] = (), **params: Any
    ) -> None:
        self.replies.append(Reply(self.chat, self.w(word, **params), buttons))

    def done(self, action: str, detail: str = "") -> None:
        self.action, self.detail = action, detail


def handle(session: Session, update: dict[str, Any], now: datetime, config: Config) -> list[Reply]:
    """Handle one update; return what to send.  The caller commits the session (with the
    offset) before sending, so a reply never announces what was not recorded."""
    settings = settings_of(config)
    language = config.settings.service.language
    update_id = update.get("update_id")
    message = update.get("message")
    query = update.get("callback_query")
    source = message if isinstance(message, dict) else None
    if isinstance(query, dict):
        source = query.get("message") or {"chat": {"id": (query.get("from") or {}).get("id")}}
    if source is None:
        kinds = ",".join(sorted(k for k in update if k != "update_id"))
        audit(session, now, None, None, "ignored", f"update {kinds}", update_id)
        return []
    chat_info = source.get("chat") or {}
    chat = str(chat_info.get("id"))
    kind = chat_info.get("type", "private")
    if kind != "private" and chat not in settings.groups:
        audit(session, now, chat, None, "ignored", f"{kind} chat not configured", update_id)
        return []
    employee = session.scalar(
        select(models.Employee).where(
            models.Employee.telegram_chat_id == chat, models.Employee.active.is_(True)
        )
    )
    turn = _Turn(session, config, settings, now, language, chat, employee)
    recent = session.scalar(
        select(func.count())
        .select_from(models.BotAudit)
        .where(
            models.BotAudit.chat_id == chat,
            models.BotAudit.at > now - timedelta(seconds=settings.flood_seconds),
        )
    )
    if (recent or 0) >= settings.flood_count:
        if recent == settings.flood_count:
            turn.say("throttled")  # once; then silence until the chat slows down
        turn.done("throttled", f"{recent} updates in {settings.flood_seconds}s")
    elif isinstance(query, dict):
        _callback(turn, query)
    else:
        assert message is not None
        _message(turn, message)
    if isinstance(query, dict):
        turn.replies.insert(0, Reply(chat, callback=str(query.get("id", ""))))
    who = turn.employee.id if turn.employee is not None else None
    audit(session, now, chat, who, turn.action, turn.detail, update_id)
    return turn.replies


def _message(turn: _Turn, message: dict[str, Any]) -> None:
    text = message.get("text") or message.get("caption") or ""
    if any(key in message for key in _FORWARDED):
        turn.say("forwarded")
        return turn.done("refused", "forwarded message")
    if len(text) > MAX_TEXT:
        turn.say("too_long", limit=MAX_TEXT)
        return turn.done("refused", f"text of {len(text)} characters")
    if (message.get("from") or {}).get("is_bot"):
        return turn.done("ignored", "from a bot")
    if text.startswith("/") and "text" in message:
        head, _, rest = text.partition(" ")
        command = head.split("@", 1)[0].lower()
        return _command(turn, command, rest.split())
    if turn.employee is None:
        turn.say("how_to_link")
        return turn.done("unlinked", "message")
    state = _state(turn)
    if state.get("step") == "evidence":
        evidence = _evidence(turn, message)
        if evidence is not None:
            _record(turn, state, evidence)
        return None
    turn.say("not_understood")
    return turn.done("not_understood", _sample(text))


def _sample(text: str) -> str:
    return _CONTROL.sub("", text)[:80]


def _command(turn: _Turn, command: str, args: list[str]) -> None:
    if command == "/start" and args:
        return _link(turn, args[0])
    if turn.employee is None:
        turn.say("how_to_link")
        return turn.done("unlinked", _sample(command))
    if command in ("/start", "/bantuan", "/help"):
        turn.replies.append(Reply(turn.chat, _help(turn)))
        return turn.done("help")
    if command == "/status":
        return _status(turn)
    if command == "/lapor":
        if not args:
            return _pick(turn)
        if len(args) != 2:
            turn.say("lapor_usage")
            return turn.done("refused", f"/lapor {_sample(' '.join(args))}")
        return _choose(turn, args[0], args[1])
    if command == "/batal":
        if _state(turn):
            _set_state(turn, {})
            turn.say("cancelled")
            return turn.done("cancel")
        turn.say("nothing_to_cancel")
        return turn.done("cancel", "nothing under way")
    if command in ("/putus", "/unlink"):
        return _unlink_ask(turn)
    if command == "/verifikasi":
        return _verify_list(turn)
    if command == "/rekap":
        return _digest(turn)
    turn.say("unknown_command", command=_esc(_sample(command)[:40]))
    return turn.done("unknown_command", _sample(command))


def _help(turn: _Turn) -> str:
    lines = [turn.w("help")]
    assert turn.employee is not None
    if _is_admin(turn):
        lines.append(turn.w("help_admin"))
    if _digest_scope(turn) is not False:
        lines.append(turn.w("help_digest"))
    return "\n".join(lines)


def _link(turn: _Turn, code: str) -> None:
    table = models.LinkCode
    row = (
        turn.session.scalar(select(table).where(table.code_hash == hash_code(code)))
        if _CODE.fullmatch(code)
        else None
    )
    if row is None:
        turn.say("code_unknown")
        return turn.done("link_refused", "unknown code")
    if row.used_at is not None:
        turn.say("code_used")
        return turn.done("link_refused", f"code {row.id} already used")
    employee = turn.session.get(models.Employee, row.employee_id)
    if row.expires_at <= turn.now or employee is None or not employee.active:
        turn.say("code_expired")
        return turn.done("link_refused", f"code {row.id} expired")
    for other in turn.session.scalars(
        select(models.Employee).where(
            models.Employee.telegram_chat_id == turn.chat, models.Employee.id != employee.id
        )
    ):
        other.telegram_chat_id = None  # a chat speaks for one employee only
    employee.telegram_chat_id = turn.chat
    employee.telegram_unreachable = None
    row.used_at, row.used_chat = turn.now, turn.chat
    turn.session.flush()
    turn.employee = employee
    turn.say("linked", name=_esc(employee.name), key=employee.key, help=_help(turn))
    return turn.done("link", f"code {row.id}")


def _status(turn: _Turn) -> None:
    from scheduler import digest
    from scheduler import status as matrix_module

    employee = turn.employee
    assert employee is not None
    snap = records.snapshot(
        turn.session, turn.config.catalog, since_year=turn.now.year - 1, key=employee.key
    )
    matrix = matrix_module.build(_schedule(turn.config), snap, turn.now)
    lines = [
        turn.w(
            "status_head",
            name=_esc(employee.name),
            date=long_date(turn.now.date(), turn.language),
        )
    ]
    cells = sorted(
        (
            item
            for item in matrix.cells.get(employee.key, {}).values()
            if item.status in OPEN or item.status is Status.PENDING
        ),
        key=lambda item: (item.occurrence.due is None, item.occurrence.due or turn.now.date()),
    )
    for item in cells:
        lines.append(_status_line(turn, item))
    if not cells:
        lines.append(turn.w("status_none"))
    on_time = due = 0
    for entry in matrix.evaluation.achievements:
        if entry.employee == employee.key:
            on_time += entry.on_time
            due += entry.due
    lines.append("")
    if due:
        percent = digest.percent(100.0 * on_time / due, turn.language)
        lines.append(turn.w("achievement", percent=percent, on_time=on_time, due=due))
    else:
        lines.append(turn.w("achievement_none"))
    buttons = tuple(
        (report_button(item.rule, item.occurrence.period, turn.language),)
        for item in cells
        if item.status in OPEN and item.occurrence.due is not None
    )[:8]
    turn.replies.append(Reply(turn.chat, "\n".join(lines), buttons))
    turn.done("status", f"{len(cells)} open")


def _status_line(turn: _Turn, item: Any) -> str:
    occ = item.occurrence
    rule = turn.config.catalog.rules[occ.rule]
    status = STATUS[turn.language][item.status]
    if item.days_late:
        status += turn.w("status_late", days=item.days_late)
    due = turn.w("status_due", date=long_date(occ.due, turn.language)) if occ.due else ""
    return turn.w(
        "status_line",
        rule=_esc(_rule_label(rule, turn.language)),
        code=occ.rule,
        period=occ.period,
        status=status,
        due=due,
    )


def _rule_label(rule: Any, language: str) -> str:
    """The rule's name, with its code when the name does not already show it."""
    name = rule_name(rule, language)
    return name if f"({rule.code})" in name else f"{name} ({rule.code})"


def _pick(turn: _Turn) -> None:
    from scheduler import status as matrix_module

    employee = turn.employee
    assert employee is not None
    snap = records.snapshot(
        turn.session, turn.config.catalog, since_year=turn.now.year - 1, key=employee.key
    )
    matrix = matrix_module.build(_schedule(turn.config), snap, turn.now)
    items = sorted(
        (
            item
            for item in matrix.cells.get(employee.key, {}).values()
            if item.status in OPEN and item.occurrence.due is not None
        ),
        key=lambda item: item.occurrence.due or turn.now.date(),
    )[:8]
    if not items:
        turn.say("pick_none")
        return turn.done("report_pick", "nothing open")
    choices = [(f"{item.rule} {item.occurrence.period}", item) for item in items]
    buttons = (
        *(((label, f"lapor:{item.rule}:{item.occurrence.period}"),) for label, item in choices),
        ((turn.w("cancel_button"), "batal"),),
    )
    turn.say("pick", buttons)
    return turn.done("report_pick", f"{len(items)} open")


def _choose(turn: _Turn, code: str, period: str) -> None:
    catalog = turn.config.catalog
    employee = turn.employee
    assert employee is not None
    shown = _sample(f"{code} {period}")
    try:
        code = records.check_rule_period(catalog, code, period)
    except records.RecordError as exc:
        turn.say("bad_rule", reason=_esc(exc.text(turn.language)))
        return turn.done("report_refused", shown)
    rule = catalog.rules[code]
    if not rule.enabled:
        turn.say("disabled", code=code)
        return turn.done("report_refused", f"{shown}: disabled")
    if not turn.now.year - 2 <= period_year(period) <= turn.now.year + 1:
        turn.say("impossible_period", period=_esc(period))
        return turn.done("report_refused", f"{shown}: impossible period")
    carried = turn.session.scalar(
        select(models.Assignment.id).where(
            models.Assignment.employee_id == employee.id, models.Assignment.rule_code == code
        )
    )
    if carried is None:
        turn.say("not_carried", code=code)
        return turn.done("report_refused", f"{shown}: not carried")
    _set_state(turn, {"step": "evidence", "rule": code, "period": period})
    buttons = (((turn.w("no_evidence"), "lapor:-"),), ((turn.w("cancel_button"), "batal"),))
    turn.say(
        "ask_evidence",
        buttons,
        rule=_esc(_rule_label(rule, turn.language)),
        code=code,
        period=period,
    )
    return turn.done("report_start", f"{code} {period}")


def _evidence(turn: _Turn, message: dict[str, Any]) -> str | None:
    """The evidence a message carries: its text, or the Telegram file reference of its
    photo or document (with the caption); None, having answered, when it is unusable."""
    caption = _CONTROL.sub("", message.get("caption") or "").strip()
    if message.get("photo"):
        photo = message["photo"][-1]  # the largest size
        return f"telegram-photo:{photo.get('file_id')}" + (f" {caption}" if caption else "")
    document = message.get("document")
    if isinstance(document, dict):
        name = _CONTROL.sub("", str(document.get("file_name") or ""))[:100]
        found = f"telegram-document:{document.get('file_id')} {name}".strip()
        return found + (f" — {caption}" if caption else "")
    text = message.get("text")
    if isinstance(text, str) and text.strip():
        text = _CONTROL.sub("", text).strip()
        if len(text) > turn.settings.max_evidence:
            turn.say("evidence_too_long", limit=turn.settings.max_evidence)
            turn.done("refused", f"evidence of {len(text)} characters")
            return None
        if text:
            return text
    turn.say("unsupported")
    turn.done("refused", "unsupported message")
    return None


def _record(turn: _Turn, state: dict[str, Any], evidence: str) -> None:
    from scheduler import status as matrix_module

    employee = turn.employee
    assert employee is not None
    code, period = str(state["rule"]), str(state["period"])
    catalog = turn.config.catalog
    try:
        row = records.record_submission(
            turn.session,
            catalog,
            employee,
            code,
            period,
            turn.now,
            turn.now,
            f"telegram:{turn.chat}",
            evidence,
            source=SOURCE,
        )
    except records.RecordError as exc:  # the catalog changed since the report was begun
        _set_state(turn, {})
        turn.say("bad_rule", reason=_esc(exc.text(turn.language)))
        return turn.done("report_refused", f"{code} {period}")
    turn.session.flush()
    _set_state(turn, {})
    rule = catalog.rules[code]
    status = turn.w("status_recorded")
    if rule.verification:
        status = turn.w("needs_verification")
    else:
        snap = records.snapshot(
            turn.session, catalog, since_year=turn.now.year - 1, key=employee.key
        )
        matrix = matrix_module.build(_schedule(turn.config), snap, turn.now, detail=True)
        for item in matrix.evaluation.statuses:
            if item.rule == code and item.occurrence.period == period:
                status = STATUS[turn.language][item.status]
                if item.days_late:
                    status += turn.w("status_late", days=item.days_late)
    local = turn.now.astimezone(_schedule(turn.config).calendar.tz)
    separator = "." if turn.language == "id" else ":"
    turn.say(
        "receipt",
        number=row.id,
        rule=_esc(_rule_label(rule, turn.language)),
        code=code,
        period=period,
        date=long_date(local.date(), turn.language),
        time=f"{local:%H}{separator}{local:%M} {local.tzname() or ''}".strip(),
        evidence=_esc(_evidence_words(turn, evidence)),
        status=status,
    )
    return turn.done("report", f"submission {row.id}: {code} {period}")


def _evidence_words(turn: _Turn, evidence: str) -> str:
    if not evidence:
        return turn.w("evidence_none")
    if evidence.startswith("telegram-photo:"):
        return turn.w("evidence_photo")
    if evidence.startswith("telegram-document:"):
        name = evidence.split(" ", 1)[1] if " " in evidence else ""
        return turn.w("evidence_document", name=name).strip()
    return evidence if len(evidence) <= 200 else evidence[:199] + "…"


def _callback(turn: _Turn, query: dict[str, Any]) -> None:
    data = str(query.get("data") or "")
    if turn.employee is None:
        turn.say("how_to_link")
        return turn.done("unlinked", f"button {_sample(data)}")
    parts = data.split(":")
    if parts[0] == "lapor" and len(parts) == 3:
        return _choose(turn, parts[1], parts[2])
    if data == "lapor:-":
        state = _state(turn)
        if state.get("step") == "evidence":
            return _record(turn, state, "")
    elif data == "batal":
        return _command(turn, "/batal", [])
    elif parts[0] == "verif" and len(parts) == 2 and parts[1].isdigit():
        return _verify_one(turn, int(parts[1]))
    elif parts[0] == "putus" and len(parts) == 2:
        return _unlink_answer(turn, parts[1])
    turn.say("stale_button")
    return turn.done("stale_button", _sample(data))


def _unlink_ask(turn: _Turn) -> None:
    """/putus: the employee unlinks their own chat (a lost phone, a chat handed on), after
    a confirmation, since only the admin can link it again."""
    employee = turn.employee
    assert employee is not None
    buttons = (
        ((turn.w("unlink_button"), f"putus:{employee.key}"),),
        ((turn.w("cancel_button"), "putus:-"),),
    )
    turn.say("unlink_ask", buttons, name=_esc(employee.name), key=employee.key)
    return turn.done("unlink_ask")


def _unlink_answer(turn: _Turn, answer: str) -> None:
    """The confirmation of /putus.  It names the employee, so a button left over from
    before the chat was linked to someone else unlinks no one."""
    employee = turn.employee
    assert employee is not None
    if answer == "-":
        turn.say("unlink_kept")
        return turn.done("cancel", "unlink kept")
    if answer != employee.key:
        turn.say("stale_button")
        return turn.done("stale_button", f"putus:{_sample(answer)}")
    unlink(turn.session, employee, turn.now)
    turn.say("unlink_done", key=employee.key)
    return turn.done("unlink", "by the employee")


def _is_admin(turn: _Turn) -> bool:
    return turn.employee is not None and turn.employee.key in records.admins(turn.session)


def _verify_list(turn: _Turn) -> None:
    if not _is_admin(turn):
        turn.say("denied", who=turn.w("who_admin"))
        return turn.done("denied", "/verifikasi")
    rows = pending_verification(turn.session, turn.config)
    if not rows:
        turn.say("verify_none")
        return turn.done("verify_list", "none pending")
    names = _names(turn.session, [r.employee_id for r in rows])
    lines = [turn.w("verify_head")]
    buttons: list[tuple[Button, ...]] = []
    for row in rows:
        name = names.get(row.employee_id, "-")
        lines.append(
            turn.w(
                "verify_line",
                name=_esc(name),
                code=row.rule_code,
                period=row.period,
                date=long_date(row.submitted_at.astimezone(turn.now.tzinfo).date(), turn.language),
                evidence=_esc(_evidence_words(turn, row.evidence)),
            )
        )
        label = turn.w("verify_button", code=row.rule_code, period=row.period, name=name)
        buttons.append(((label[:60], f"verif:{row.id}"),))
    turn.replies.append(Reply(turn.chat, "\n".join(lines), tuple(buttons)))
    return turn.done("verify_list", f"{len(rows)} pending")


def _names(session: Session, ids: Sequence[int | None]) -> dict[int | None, str]:
    wanted = [i for i in ids if i is not None]
    table = models.Employee
    return dict(session.execute(select(table.id, table.name).where(table.id.in_(wanted))).all())


def _verify_one(turn: _Turn, submission_id: int) -> None:
    if not _is_admin(turn):
        turn.say("denied", who=turn.w("who_admin"))
        return turn.done("denied", f"verif:{submission_id}")
    row = turn.session.get(models.Submission, submission_id)
    newest = (
        newest_submission(turn.session, row.employee_id, row.rule_code, row.period)
        if row is not None
        else None
    )
    if row is None or newest is None or newest.id != row.id or row.verified_at is not None:
        turn.say("verify_gone")
        return turn.done("verify_refused", f"submission {submission_id}")
    done = verify(turn.session, row, turn.now, f"telegram:{turn.chat}", SOURCE)
    owner = turn.session.get(models.Employee, row.employee_id) if row.employee_id else None
    name = owner.name if owner else "-"
    turn.say("verified", name=_esc(name), code=row.rule_code, period=row.period)
    if owner is not None and owner.telegram_chat_id and owner.telegram_chat_id != turn.chat:
        text = turn.w("verified_notice", code=row.rule_code, period=row.period)
        turn.replies.append(Reply(owner.telegram_chat_id, text))
    return turn.done("verify", f"submission {row.id} → {done.id}")


def _digest_scope(turn: _Turn) -> str | bool | None:
    """None: the whole agency (the Secretary); a unit name (its head); False: neither."""
    employee = turn.employee
    if employee is None:
        return False
    roles = set(employee.roles.split())
    if "secretary" in roles:
        return None
    if "unit_head" in roles and employee.unit is not None:
        return employee.unit.name
    return False


def _digest(turn: _Turn) -> None:
    from notifications import digest as layout
    from rules.digest import Member, build_digest
    from scheduler import digest

    scope = _digest_scope(turn)
    if scope is False:
        turn.say("denied", who=turn.w("who_digest"))
        return turn.done("denied", "/rekap")
    unit = scope if isinstance(scope, str) else None
    snap = records.snapshot(
        turn.session, turn.config.catalog, since_year=turn.now.year - 1, unit=unit
    )
    members = [Member(key, info.name, info.unit) for key, info in snap.employees.items()]
    built = build_digest(
        _schedule(turn.config), snap.roster, snap.submissions, snap.events, members, turn.now, unit
    )
    text = layout.render_text(digest.view(built, turn.config.catalog, turn.language))
    turn.replies.append(Reply(turn.chat, _esc(text)))
    return turn.done("digest", unit or "agency")


def _state(turn: _Turn) -> dict[str, Any]:
    row = turn.session.get(models.BotChat, turn.chat)
    if row is None or not row.state:
        return {}
    try:
        found = json.loads(row.state)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _set_state(turn: _Turn, state: dict[str, Any]) -> None:
    row = turn.session.get(models.BotChat, turn.chat)
    if not state:
        if row is not None:
            turn.session.delete(row)
        return
    if row is None:
        row = models.BotChat(chat_id=turn.chat)
        turn.session.add(row)
    row.state, row.updated_at = json.dumps(state), turn.now


# --------------------------------------------------------------------------- polling


class Poller:
    """Long-polls the Bot API and handles each update in its own transaction, which also
    moves the stored offset; opened once (``with Poller(...) as poller:``) per thread."""

    def __init__(
        self,
        config: Config,
        db: Database,
        clock: Callable[[], datetime],
        token: str | None = None,
        base_url: str | None = None,
    ) -> None:
        telegram = config.settings.telegram
        if token is None and telegram.token is not None:
            token = telegram.token.get_secret_value()
        if not token:
            raise ValueError("no bot token: set TENGGAT_TELEGRAM_TOKEN")
        self.config, self.db, self.clock = config, db, clock
        self.settings = settings_of(config)
        self.base_url = base_url or telegram.api_url
        self._token = token
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bot: Any = None
        self.username = ""

    def __enter__(self) -> Poller:
        self.open()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def open(self) -> None:
        from telegram import Bot
        from telegram.request import HTTPXRequest

        loop = asyncio.new_event_loop()
        request = HTTPXRequest(read_timeout=self.settings.poll_seconds + 15.0)
        bot = Bot(self._token, base_url=self.base_url, request=request)
        try:
            loop.run_until_complete(bot.initialize())  # getMe
        except BaseException:
            loop.run_until_complete(request.shutdown())
            loop.close()
            raise
        self._loop, self._bot, self.username = loop, bot, bot.username

    def close(self) -> None:
        if self._loop is not None:
            self._loop.run_until_complete(self._bot.shutdown())
            self._loop.close()
            self._loop = self._bot = None

    def reason(self, exc: BaseException) -> str:
        return f"{type(exc).__name__}: {exc}".replace(self._token, "***")

    def poll_once(self, now: datetime | None = None, timeout: float | None = None) -> int:
        """One ``getUpdates`` (waiting up to ``timeout`` seconds for one), each update handled
        and committed with the offset, then answered; the number of updates handled."""
        if self._loop is None:
            raise RuntimeError("open the poller first: with Poller(...) as poller: ...")
        with self.db.read() as session:
            stored = session.scalar(
                select(models.ServiceState.value).where(models.ServiceState.name == OFFSET)
            )
        offset = int(stored) + 1 if stored else None
        wait = self.settings.poll_seconds if timeout is None else timeout
        updates = self._loop.run_until_complete(
            self._bot.get_updates(
                offset=offset,
                timeout=int(wait),
                allowed_updates=ALLOWED_UPDATES,
            )
        )
        for update in updates:
            self.answer(self.handle_update(update.to_dict(), now))
        return len(updates)

    def answer(self, replies: Sequence[Reply]) -> None:
        """Send the replies to handled updates (a reply that cannot go is logged, not retried:
        its update is recorded)."""
        assert self._loop is not None
        for reply in replies:
            self._loop.run_until_complete(self._send(reply))

    def set_webhook(self, url: str, secret: str) -> None:
        """Have Telegram post updates to ``url`` with ``secret`` in a header, one at a time
        (in order, as the offset expects), instead of holding them for getUpdates."""
        assert self._loop is not None
        self._loop.run_until_complete(
            self._bot.set_webhook(
                url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, max_connections=1
            )
        )

    def delete_webhook(self) -> None:
        """Back to getUpdates; Telegram keeps what arrives meanwhile for the next holder."""
        assert self._loop is not None
        self._loop.run_until_complete(self._bot.delete_webhook())

    def handle_update(self, data: dict[str, Any], now: datetime | None = None) -> list[Reply]:
        """Handle one update in its own transaction with the stored offset; the replies to
        send.  Raises while the database is away: the update is then not acknowledged."""
        from sqlalchemy.exc import DBAPIError, OperationalError

        update_id = int(data["update_id"])
        moment = now or self.clock()
        try:
            with self.db.write() as session:
                if self._already(session, update_id, moment):
                    return []
                replies = handle(session, data, moment, self.config)
                health.record(session, OFFSET, str(update_id), moment)
            return replies
        except (OperationalError, DBAPIError) as exc:
            if isinstance(exc, OperationalError) or exc.connection_invalidated:
                raise  # the database is away: not acknowledged, tried again later
            failure: Exception = exc
        except Exception as exc:
            failure = exc
        # A bug on this update must not block every later one: skip it, audited.
        log.exception("telegram update %s failed", update_id, exc_info=failure)
        with self.db.write() as session:
            chat = _chat_of(data)
            detail = self.reason(failure)
            audit(session, moment, chat, None, "error", detail, update_id)
            health.record(session, OFFSET, str(update_id), moment)
        language = self.config.settings.service.language
        return [Reply(chat, _WORDS[language]["error"])] if chat else []

    @staticmethod
    def _already(session: Session, update_id: int, now: datetime) -> bool:
        """Lock the offset row (PostgreSQL: another poller waits; SQLite writes one at a
        time anyway) and say whether this update was handled already."""
        stored = session.scalar(
            select(models.ServiceState.value)
            .where(models.ServiceState.name == OFFSET)
            .with_for_update()
        )
        return bool(stored) and int(str(stored)) >= update_id

    async def _send(self, reply: Reply) -> None:
        from telegram import InlineKeyboardButton, InlineKeyboardMarkup
        from telegram.constants import ParseMode
        from telegram.error import BadRequest, Forbidden, RetryAfter

        from notifications.telegram import split

        bot = self._bot
        try:
            if reply.callback:
                with contextlib.suppress(BadRequest):  # too old: it stops spinning anyway
                    await bot.answer_callback_query(reply.callback)
            if not reply.text:
                return
            parts = split(reply.text)
            for number, part in enumerate(parts, start=1):
                markup = None
                if reply.buttons and number == len(parts):
                    markup = InlineKeyboardMarkup(
                        [
                            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                            for row in reply.buttons
                        ]
                    )
                for attempt in range(3):
                    try:
                        await bot.send_message(
                            reply.chat, part, parse_mode=ParseMode.HTML, reply_markup=markup
                        )
                        break
                    except RetryAfter as exc:
                        wait = exc.retry_after
                        seconds = wait.total_seconds() if isinstance(wait, timedelta) else wait
                        await asyncio.sleep(min(float(seconds), 30.0))
                    except (BadRequest, Forbidden):
                        raise
                    except Exception:
                        if attempt == 2:
                            raise
                        await asyncio.sleep(1.0 + attempt)
        except Exception as exc:  # the update is recorded; only the answer is lost
            log.warning("telegram reply to %s not sent: %s", reply.chat, self.reason(exc))

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set; network errors and Telegram outages wait and retry
        (1, 2, 4 … 60 seconds), and nothing unhandled is ever acknowledged."""
        delay = 1.0
        while not stop.is_set():
            try:
                if self._loop is None:
                    self.open()
                    self.delete_webhook()  # set by an earlier run with [bot] webhook_url
                self.poll_once()
                delay = 1.0
            except Exception as exc:
                from telegram.error import RetryAfter

                if isinstance(exc, RetryAfter):
                    wait = exc.retry_after
                    delay = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
                log.warning("telegram polling: %s; again in %.0f s", self.reason(exc), delay)
                stop.wait(delay)
                delay = min(delay * 2, 60.0)
        self.close()


def _chat_of(data: dict[str, Any]) -> str:
    source = data.get("message") or (data.get("callback_query") or {}).get("message") or {}
    chat = (source.get("chat") or {}).get("id")
    return "" if chat is None else str(chat)


def start(config: Config, db: Database, clock: Callable[[], datetime]) -> Callable[[], None]:
    """Poll in a daemon thread (a bot token must be set), or serve a webhook when ``[bot]
    webhook_url`` is set; return what stops it.  Stopping waits for a poll under way, so the
    next holder of the lock never polls beside it."""
    poller = Poller(config, db, clock)
    if poller.settings.webhook_url:
        from scheduler.webhook import serve

        return serve(poller)
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,), name="tenggat-bot", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=poller.settings.poll_seconds + 20)

    return halt
