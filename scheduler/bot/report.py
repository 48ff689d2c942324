"""/lapor in the bot: pick an open obligation (or press a reminder's "Sudah lapor" button),
give the evidence (a text, photo or document), or for a measured indicator (SERAPAN) its
value, get the receipt.  Submissions take the
command line's own path (`records.check_rule_period`, then `submissions.add`), with source
``telegram`` and ``recorded_by`` ``telegram:<chat>``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from rules.evaluate import OPEN
from rules.periods import period_year
from scheduler.bot.buttons import NO_EVIDENCE, report_data
from scheduler.bot.records import SOURCE
from scheduler.bot.turn import (
    CONTROL,
    Turn,
    esc,
    own_matrix,
    sample,
    set_chat_state,
)
from scheduler.store import models, records, submissions
from scheduler.words import (
    clock,
    long_date,
    measure,
    period_name,
    record_meaning,
    rule_name,
    value_meaning,
)


def pick(turn: Turn) -> None:
    """/lapor alone: a button for each open obligation (the eight due soonest)."""

    employee = turn.employee
    assert employee is not None
    matrix = own_matrix(turn)
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
        *(((label, report_data(item.rule, item.occurrence.period)),) for label, item in choices),
        ((turn.w("cancel_button"), "batal"),),
    )
    turn.say("pick", buttons)
    return turn.done("report_pick", f"{len(items)} open")


def choose(turn: Turn, code: str, period: str) -> None:
    """/lapor RULE PERIOD (or its button): check it is the employee's to report, then ask
    for the evidence."""
    catalog = turn.config.catalog
    employee = turn.employee
    assert employee is not None
    shown = sample(f"{code} {period}")
    try:
        code = records.check_rule_period(catalog, code, period)
    except records.RecordError as exc:
        turn.say("bad_rule", reason=esc(exc.text(turn.language)))
        return turn.done("report_refused", shown)
    rule = catalog.rules[code]
    if not rule.enabled:
        turn.say("disabled", code=code)
        return turn.done("report_refused", f"{shown}: disabled")
    if not turn.now.year - 2 <= period_year(period) <= turn.now.year + 1:
        turn.say("impossible_period", period=esc(period))
        return turn.done("report_refused", f"{shown}: impossible period")
    try:
        records.check_submission_period(turn.config.schedule(), code, period, turn.now)
    except records.RecordError as exc:  # the year it is due in, for the year it is about
        turn.say("bad_rule", reason=esc(exc.text(turn.language)))
        return turn.done("report_refused", f"{shown}: far period")
    carried = turn.session.scalar(
        select(models.Assignment.id).where(
            models.Assignment.employee_id == employee.id, models.Assignment.rule_code == code
        )
    )
    if carried is None:
        turn.say("not_carried", code=code)
        return turn.done("report_refused", f"{shown}: not carried")
    if rule.target is not None:  # a measure: its number, not a document
        set_chat_state(turn, {"step": "value", "rule": code, "period": period})
        turn.say(
            "ask_value",
            (((turn.w("cancel_button"), "batal"),),),
            rule=esc(rule_label(rule, turn.language)),
            period=period_name(rule, period, turn.language),
            target=measure(rule.target, rule, turn.language),
        )
        return turn.done("report_start", f"{code} {period}")
    set_chat_state(turn, {"step": "evidence", "rule": code, "period": period})
    buttons = (((turn.w("no_evidence"), NO_EVIDENCE),), ((turn.w("cancel_button"), "batal"),))
    turn.say(
        "ask_evidence",
        buttons,
        rule=esc(rule_label(rule, turn.language)),
        code=code,
        period=period_name(rule, period, turn.language),
    )
    return turn.done("report_start", f"{code} {period}")


def evidence_of(turn: Turn, message: dict[str, Any]) -> str | None:
    """The evidence a message carries: its text, or the Telegram file reference of its
    photo or document (with the caption); None, having answered, when it is unusable."""
    caption = CONTROL.sub("", message.get("caption") or "").strip()
    if message.get("photo"):
        photo = message["photo"][-1]  # the largest size
        return f"telegram-photo:{photo.get('file_id')}" + (f" {caption}" if caption else "")
    document = message.get("document")
    if isinstance(document, dict):
        name = CONTROL.sub("", str(document.get("file_name") or ""))[:100]
        found = f"telegram-document:{document.get('file_id')} {name}".strip()
        return found + (f" — {caption}" if caption else "")
    text = message.get("text")
    if isinstance(text, str) and text.strip():
        text = CONTROL.sub("", text).strip()
        # The setting, but never more than the evidence column takes.
        limit = min(turn.settings.max_evidence, models.NOTE_CHARS)
        if len(text) > limit:
            turn.say("evidence_too_long", limit=limit)
            turn.done("refused", f"evidence of {len(text)} characters")
            return None
        if text:
            return text
    turn.say("unsupported")
    turn.done("refused", "unsupported message")
    return None


def value_given(turn: Turn, state: dict[str, Any], text: str) -> None:
    """The number a measured report asked for: recorded, or refused with the command
    line's reason while the question stays open for another try."""
    catalog = turn.config.catalog
    try:
        code = records.check_rule_period(catalog, str(state["rule"]), str(state["period"]))
        value = records.check_value(catalog, code, text)
    except records.RecordError as exc:
        turn.say("bad_value", reason=esc(exc.text(turn.language)))
        return turn.done("report_refused", f"value {sample(text)}")
    return record(turn, state, "", value)


def record(turn: Turn, state: dict[str, Any], evidence: str, value: float | None = None) -> None:
    """Record the report begun in ``state`` through the command line's own path, and send
    the receipt with the status it now has (and a measure's value against its target)."""

    employee = turn.employee
    assert employee is not None
    code, period = str(state["rule"]), str(state["period"])
    catalog = turn.config.catalog
    try:
        added = submissions.add(
            turn.session,
            employee.id,
            records.check_submission_period(turn.config.schedule(), code, period, turn.now),
            period,
            turn.now,
            turn.now,
            f"telegram:{turn.chat}",
            evidence,
            source=SOURCE,
            value=value,
        )
    except records.RecordError as exc:  # the catalog changed since the report was begun
        set_chat_state(turn, {})
        turn.say("bad_rule", reason=esc(exc.text(turn.language)))
        return turn.done("report_refused", f"{code} {period}")
    turn.session.flush()
    set_chat_state(turn, {})
    row, rule = added.row, catalog.rules[code]
    local = turn.now.astimezone(turn.config.schedule().calendar.tz)
    said: dict[str, Any] = {
        "number": row.id,
        "rule": esc(rule_label(rule, turn.language)),
        "code": code,
        "period": period_name(rule, period, turn.language),
        "date": long_date(local.date(), turn.language),
        "time": clock(local, turn.language),
    }
    if value is not None and rule.target is not None:
        shown = measure(value, rule, turn.language)
        target = measure(rule.target, rule, turn.language)
        status = value_meaning(value, rule.target, turn.language)
        turn.say("receipt_value", value=shown, target=target, status=status, **said)
        return turn.done("report", f"submission {row.id}: {code} {period}")
    shown = evidence_words(turn, row.evidence)
    if added.kept_evidence:
        shown = turn.w("evidence_kept", evidence=shown)
    meaning = record_meaning(
        turn.config.schedule(),
        rule,
        period,
        row.submitted_at,
        row.verified_at,
        records.event_index(turn.session),
        turn.language,
    )
    turn.say("receipt", evidence=esc(shown), status=meaning, **said)
    return turn.done("report", f"submission {row.id}: {code} {period}")


def rule_label(rule: Any, language: str) -> str:
    """The rule's name, with its code when the name does not already show it."""
    name = rule_name(rule, language)
    return name if f"({rule.code})" in name else f"{name} ({rule.code})"


def evidence_words(turn: Turn, evidence: str) -> str:
    """Evidence as a message shows it: a photo or document by name, long text cut short."""
    if not evidence:
        return turn.w("evidence_none")
    if evidence.startswith("telegram-photo:"):
        return turn.w("evidence_photo")
    if evidence.startswith("telegram-document:"):
        name = evidence.split(" ", 1)[1] if " " in evidence else ""
        return turn.w("evidence_document", name=name).strip()
    return evidence if len(evidence) <= 200 else evidence[:199] + "…"
