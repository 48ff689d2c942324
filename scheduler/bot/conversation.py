"""The two-way Telegram bot: linking chats to employees (and /putus, unlinking one's own),
/status, /lapor (also from a reminder's "Sudah lapor" button), /verifikasi, /rekap.

`handle` turns one Bot API update (a dict, as Telegram sends it) into database effects and
the replies to send; it reads no clock and sends nothing, so the tests drive it directly and
through the fake Bot API alike.  Everything it does, and everything it refuses, leaves one
row in ``bot_audit``, save the flood of a chat linked to no one, whose rows are bounded
(`handle`).  Submissions take the command line's own path (`records.check_rule_period`,
then `submissions.add`), with source ``telegram`` and ``recorded_by`` ``telegram:<chat>``.

The /lapor flow is in `scheduler.bot.report`, what a turn works with in `scheduler.bot.turn`,
the records shared with the command line in `scheduler.bot.records`, and getting updates
(long polling, the webhook's hooks) in `scheduler.bot.poller`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rules.evaluate import OPEN, Status
from scheduler.bot.buttons import NO_EVIDENCE, Button, report_button, reported
from scheduler.bot.records import SOURCE, audit, hash_code, unlink
from scheduler.bot.report import (
    choose,
    evidence_of,
    evidence_words,
    pick,
    record,
    rule_label,
    value_given,
)
from scheduler.bot.turn import (
    Reply,
    Turn,
    chat_state,
    esc,
    own_matrix,
    sample,
    set_chat_state,
)
from scheduler.bot.updates import chat_of
from scheduler.memory import paused_gc
from scheduler.store import models, records, signin, submissions
from scheduler.words import STATUS, long_date, period_name

if TYPE_CHECKING:
    from datetime import datetime

    from scheduler.config import Config

_CODE = re.compile(r"[A-Za-z0-9_-]{8,64}")
_FORWARDED = ("forward_origin", "forward_date", "forward_from", "forward_from_chat")
MAX_TEXT = 4096  # Telegram's own limit on a message


def handle(session: Session, update: dict[str, Any], now: datetime, config: Config) -> list[Reply]:
    """Handle one update; return what to send.  The caller commits the session (with the
    offset) before sending, so a reply never announces what was not recorded.

    A chat that sends more than ``flood_count`` updates within ``flood_seconds`` is told to
    slow down once, then ignored.  A linked chat's every update is audited; a chat linked to
    no one (a stranger, a group) leaves at most ``flood_count + 1`` rows in any
    ``flood_seconds`` (21 a minute by default), so a stranger cannot fill the database."""
    settings = config.settings.bot
    language = config.settings.service.language
    update_id = update.get("update_id")
    message = update.get("message")
    query = update.get("callback_query")
    if not isinstance(message, dict) and not isinstance(query, dict):
        kinds = ",".join(sorted(k for k in update if k != "update_id"))
        audit(session, now, None, None, "ignored", f"update {kinds}", update_id)
        return []
    found = chat_of(update)
    if found is None:
        audit(session, now, None, None, "unparseable", "no chat id", update_id)
        return []
    chat, kind = found
    employee = session.scalar(
        select(models.Employee).where(
            models.Employee.telegram_chat_id == chat, models.Employee.active.is_(True)
        )
    )
    recent = session.scalar(
        select(func.count())
        .select_from(models.BotAudit)
        .where(
            models.BotAudit.chat_id == chat,
            models.BotAudit.at > now - timedelta(seconds=settings.flood_seconds),
        )
    )
    if employee is None and (recent or 0) > settings.flood_count:
        return []  # a stranger's flood: the row that marked it was its last
    if kind != "private" and chat not in settings.groups:
        audit(session, now, chat, None, "ignored", f"{kind} chat not configured", update_id)
        return []
    turn = Turn(session, config, settings, now, language, chat, employee)
    if (recent or 0) >= settings.flood_count:
        if recent == settings.flood_count:
            turn.say("throttled")  # once; then silence until the chat slows down
        turn.done("throttled", f"{recent} updates in {settings.flood_seconds}s")
    elif isinstance(query, dict):
        _callback(turn, query)
    else:
        assert isinstance(message, dict)
        _message(turn, message)
    if isinstance(query, dict):
        turn.replies.insert(0, Reply(chat, callback=str(query.get("id", ""))))
    who = turn.employee.id if turn.employee is not None else None
    audit(session, now, chat, who, turn.action, turn.detail, update_id)
    return turn.replies


def _message(turn: Turn, message: dict[str, Any]) -> None:
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
    state = chat_state(turn)
    if state.get("step") == "value":
        return value_given(turn, state, text)
    if state.get("step") == "evidence":
        evidence = evidence_of(turn, message)
        if evidence is not None:
            record(turn, state, evidence)
        return None
    turn.say("not_understood")
    return turn.done("not_understood", sample(text))


def _command(turn: Turn, command: str, args: list[str]) -> None:
    if command == "/start" and args:
        return _link(turn, args[0])
    if turn.employee is None:
        turn.say("how_to_link")
        return turn.done("unlinked", sample(command))
    if command in ("/start", "/bantuan", "/help"):
        turn.replies.append(Reply(turn.chat, _help(turn)))
        return turn.done("help")
    if command == "/status":
        return _status(turn)
    if command == "/lapor":
        if not args:
            return pick(turn)
        if len(args) != 2:
            turn.say("lapor_usage")
            return turn.done("refused", f"/lapor {sample(' '.join(args))}")
        return choose(turn, args[0], args[1])
    if command == "/batal":
        if chat_state(turn):
            set_chat_state(turn, {})
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
    if command in ("/masuk", "/login"):
        return _sign_in_link(turn)
    turn.say("unknown_command", command=esc(sample(command)[:40]))
    return turn.done("unknown_command", sample(command))


def _help(turn: Turn) -> str:
    lines = [turn.w("help")]
    assert turn.employee is not None
    if _is_admin(turn):
        lines.append(turn.w("help_admin"))
    if _digest_scope(turn) is not False:
        lines.append(turn.w("help_digest"))
    if turn.config.settings.web.public_url:
        lines.append(turn.w("help_web"))
    return "\n".join(lines)


def _sign_in_link(turn: Turn) -> None:
    """/masuk: a one-time link to the web console for this chat's own employee (the chat is
    theirs: `_link`), on the console's public address; the link is not audited as text."""
    assert turn.employee is not None
    web = turn.config.settings.web
    if not web.public_url:
        turn.say("web_off")
        return turn.done("refused", "/masuk: no [web] public_url")
    by = f"telegram:{turn.chat}"
    link = signin.issue_link(turn.session, turn.employee, turn.now, web.login_minutes, by)
    url = signin.link_url(web, link.token)
    turn.say("sign_in_link", url=esc(url), minutes=web.login_minutes)
    return turn.done("sign_in_link")


def _link(turn: Turn, code: str) -> None:
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
    other = records.chat_holder(turn.session, turn.chat, employee)
    if other is not None:  # the code stays unused: it works once the chat is free
        turn.say("chat_taken", name=esc(other.name), key=other.key)
        return turn.done("link_refused", f"chat linked to {other.key}")
    records.claim_chat(turn.session, employee, turn.chat)
    row.used_at, row.used_chat = turn.now, turn.chat
    turn.session.flush()
    turn.employee = employee
    turn.say("linked", name=esc(employee.name), key=employee.key, help=_help(turn))
    return turn.done("link", f"code {row.id}")


def _status(turn: Turn) -> None:
    from scheduler.reports import digest

    employee = turn.employee
    assert employee is not None
    matrix = own_matrix(turn)
    lines = [
        turn.w(
            "status_head",
            name=esc(employee.name),
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
        (
            report_button(
                item.rule,
                item.occurrence.period,
                _period(turn, item.rule, item.occurrence.period),
                turn.language,
            ),
        )
        for item in cells
        if item.status in OPEN and item.occurrence.due is not None
    )[:8]
    turn.replies.append(Reply(turn.chat, "\n".join(lines), buttons))
    turn.done("status", f"{len(cells)} open")


def _status_line(turn: Turn, item: Any) -> str:
    occ = item.occurrence
    rule = turn.config.catalog.rules[occ.rule]
    status = STATUS[turn.language][item.status]
    if item.days_late:
        status += turn.w("status_late", days=item.days_late)
    due = turn.w("status_due", date=long_date(occ.due, turn.language)) if occ.due else ""
    return turn.w(
        "status_line",
        rule=esc(rule_label(rule, turn.language)),
        code=occ.rule,
        period=_period(turn, occ.rule, occ.period),
        status=status,
        due=due,
    )


def _callback(turn: Turn, query: dict[str, Any]) -> None:
    data = str(query.get("data") or "")
    if turn.employee is None:
        turn.say("how_to_link")
        return turn.done("unlinked", f"button {sample(data)}")
    item = reported(data)
    if item is not None:
        return choose(turn, *item)
    parts = data.split(":")
    if data == NO_EVIDENCE:
        state = chat_state(turn)
        if state.get("step") == "evidence":
            return record(turn, state, "")
    elif data == "batal":
        return _command(turn, "/batal", [])
    elif parts[0] == "verif" and len(parts) == 2 and parts[1].isdigit():
        return _verify_one(turn, int(parts[1]))
    elif parts[0] == "putus" and len(parts) == 2:
        return _unlink_answer(turn, parts[1])
    turn.say("stale_button")
    return turn.done("stale_button", sample(data))


def _unlink_ask(turn: Turn) -> None:
    """/putus: the employee unlinks their own chat (a lost phone, a chat handed on), after
    a confirmation, since only the admin can link it again."""
    employee = turn.employee
    assert employee is not None
    buttons = (
        ((turn.w("unlink_button"), f"putus:{employee.key}"),),
        ((turn.w("cancel_button"), "putus:-"),),
    )
    turn.say("unlink_ask", buttons, name=esc(employee.name), key=employee.key)
    return turn.done("unlink_ask")


def _unlink_answer(turn: Turn, answer: str) -> None:
    """The confirmation of /putus.  It names the employee, so a button left over from
    before the chat was linked to someone else unlinks no one."""
    employee = turn.employee
    assert employee is not None
    if answer == "-":
        turn.say("unlink_kept")
        return turn.done("cancel", "unlink kept")
    if answer != employee.key:
        turn.say("stale_button")
        return turn.done("stale_button", f"putus:{sample(answer)}")
    unlink(turn.session, employee, turn.now)
    turn.say("unlink_done", key=employee.key)
    return turn.done("unlink", "by the employee")


def _is_admin(turn: Turn) -> bool:
    return turn.employee is not None and turn.employee.key in records.admins(turn.session)


def _verify_list(turn: Turn) -> None:
    if not _is_admin(turn):
        turn.say("denied", who=turn.w("who_admin"))
        return turn.done("denied", "/verifikasi")
    rows = submissions.pending_verification(turn.session, turn.config.catalog)
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
                name=esc(name),
                code=row.rule_code,
                period=row.period,
                date=long_date(row.submitted_at.astimezone(turn.now.tzinfo).date(), turn.language),
                evidence=esc(evidence_words(turn, row.evidence)),
            )
        )
        label = turn.w("verify_button", code=row.rule_code, period=row.period, name=name)
        buttons.append(((label[:60], f"verif:{row.id}"),))
    turn.replies.append(Reply(turn.chat, "\n".join(lines), tuple(buttons)))
    return turn.done("verify_list", f"{len(rows)} pending")


def _period(turn: Turn, code: str, period: str) -> str:
    """A period in words; the key of a rule the catalog no longer has."""
    rule = turn.config.catalog.rules.get(code)
    return period_name(rule, period, turn.language) if rule else period


def _names(session: Session, ids: Sequence[int | None]) -> dict[int | None, str]:
    wanted = [i for i in ids if i is not None]
    table = models.Employee
    return dict(session.execute(select(table.id, table.name).where(table.id.in_(wanted))).all())


def _verify_one(turn: Turn, submission_id: int) -> None:
    if not _is_admin(turn):
        turn.say("denied", who=turn.w("who_admin"))
        return turn.done("denied", f"verif:{submission_id}")
    row = turn.session.get(models.Submission, submission_id)
    newest = (
        submissions.newest(turn.session, row.employee_id, row.rule_code, row.period)
        if row is not None
        else None
    )
    if row is None or newest is None or newest.id != row.id or row.verified_at is not None:
        turn.say("verify_gone")
        return turn.done("verify_refused", f"submission {submission_id}")
    done = submissions.verify(turn.session, row, turn.now, f"telegram:{turn.chat}", SOURCE)
    owner = turn.session.get(models.Employee, row.employee_id) if row.employee_id else None
    name = owner.name if owner else "-"
    named = _period(turn, row.rule_code, row.period)
    turn.say("verified", name=esc(name), code=row.rule_code, period=named)
    if owner is not None and owner.telegram_chat_id and owner.telegram_chat_id != turn.chat:
        text = turn.w("verified_notice", code=row.rule_code, period=named)
        turn.replies.append(Reply(owner.telegram_chat_id, text))
    return turn.done("verify", f"submission {row.id} → {done.id}")


def _digest_scope(turn: Turn) -> str | bool | None:
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


def _digest(turn: Turn) -> None:
    from notifications import digest as layout
    from scheduler.reports import digest

    scope = _digest_scope(turn)
    if scope is False:
        turn.say("denied", who=turn.w("who_digest"))
        return turn.done("denied", "/rekap")
    unit = scope if isinstance(scope, str) else None
    with paused_gc():  # the whole agency's records, read and evaluated twice
        unit, snap = digest.scope(turn.session, turn.config, turn.now, unit)
        built = digest.from_snapshot(turn.config, snap, turn.now, unit)
    text = layout.render_text(digest.view(built, turn.config.catalog, turn.language))
    turn.replies.append(Reply(turn.chat, esc(text)))
    return turn.done("digest", unit or "agency")
