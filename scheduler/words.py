"""How rules, dates and statuses are put into words for people, in Indonesian or English."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from babel.dates import format_date, get_month_names
from babel.numbers import format_decimal

from rules.catalog import Rule
from rules.evaluate import OccurrenceStatus, Status, timeliness
from rules.periods import Granularity, parse_period
from rules.schedule import Adjustment, EventIndex, Occurrence, Schedule
from scheduler.catalog import Words

STATUS = Words("status")  # in the catalogs, msgctxt "status"

_TEXT = Words("dates")  # in the catalogs, msgctxt "dates"
LETTER = Words("letter")  # the words of a reminder or escalation, msgctxt "letter"
LINK = Words("link")  # the e-mail that hands out a Telegram link code, msgctxt "link"
EVENTS = Words("event")  # what an event code means to people, msgctxt "event"
_POLICY = Words("holiday_policy")  # what a due date on a day off does, msgctxt "holiday_policy"
_CONFIDENCE = Words("confidence")  # how firmly a deadline is known, msgctxt "confidence"
_RECEIPT = Words("receipt")  # what a submission just recorded means, msgctxt "receipt"
_PERIOD = Words("period")  # a period in words, msgctxt "period"
_ROMAN = ("I", "II", "III", "IV")


def event_name(code: str, language: str) -> str:
    """What an event code means to people (APBD_ADOPTED reads "penetapan APBD"): they read
    what happened, not a code. An event an agency added itself keeps its code."""
    return EVENTS[language].get(code, code)


def measure(value: float, rule: Rule, language: str) -> str:
    """A measure's value as its reader writes numbers, with the rule's unit: "87,5%"."""
    return f"{format_decimal(value, format='#,##0.##', locale=language)}{rule.unit}"


def rule_name(rule: Rule, language: str) -> str:
    return rule.name_en or rule.name if language == "en" else rule.name


def period_name(rule: Rule, period: str, language: str) -> str:
    """A period as the agency names it: "Januari 2025", "Triwulan I 2025", "Semester I 2025",
    "Tahun 2025", or the rule's own name for its year ("Tahun Pajak 2024" for the SPT, "untuk
    TA 2026" for the SHS).  People never read a key such as ``2025-Q1``; a key that does not
    fit the rule (an old record) is shown as it is."""
    try:
        year, part = parse_period(period, rule.period)
    except ValueError:
        return period
    own = rule.period_name_en or rule.period_name if language == "en" else rule.period_name
    if own:
        return own.format(year=year)
    if rule.period is Granularity.MONTH:
        month = get_month_names("wide", locale=language)[part]
        return _PERIOD[language]["month"].format(year=year, month=month)
    return _PERIOD[language][rule.period.value].format(year=year, roman=_ROMAN[part - 1])


def title(nip: str | None, language: str) -> str:
    """How a letter addresses a person: "Bapak" or "Ibu" by the NIP's 15th digit (1 for a
    man, 2 for a woman, as BKN numbers them), "Bapak/Ibu" where the NIP does not say."""
    gender = nip[14] if nip and len(nip) == 18 and nip.isdigit() else ""
    key = {"1": "title_male", "2": "title_female"}.get(gender, "title_unknown")
    return LETTER[language][key]


def clock(moment: datetime, language: str) -> str:
    """``07.30 WITA``: Indonesian writes the time with a dot (PUEBI), English ``07:30 WITA``."""
    separator = "." if language == "id" else ":"
    return f"{moment:%H}{separator}{moment:%M} {moment.tzname() or ''}".strip()


def long_date(day: date, language: str) -> str:
    """A date as people write it: "Senin, 31 Maret 2025"."""
    return format_date(day, format="EEEE, d MMMM y", locale=language)


def _join(items: list[str], language: str) -> str:
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {_TEXT[language]['and']} {items[-1]}"


def recurrence(rule: Rule, language: str) -> str:
    """A rule's recurrence in words, e.g. "setiap tahun, akhir Juni dan akhir Oktober".

    Covers the shapes the catalog uses (yearly by month and day, monthly by day); any other
    RRULE is shown as written rather than described wrongly.
    """
    text = _TEXT[language]
    if rule.anchor is not None:
        parts = []
        if rule.anchor.months:
            parts.append(text["months"].format(n=rule.anchor.months))
        if rule.anchor.days:
            parts.append(text["days"].format(n=rule.anchor.days))
        event = event_name(rule.anchor.event, language)
        return text["after"].format(amount=" ".join(parts) or "0", event=event)
    if rule.rrule is None:
        return text["unscheduled"].format(code=rule.code)
    fields = dict(part.split("=", 1) for part in rule.rrule.upper().split(";") if "=" in part)
    freq, months, days = fields.get("FREQ"), fields.get("BYMONTH"), fields.get("BYMONTHDAY")
    if set(fields) - {"FREQ", "BYMONTH", "BYMONTHDAY"} or days is None or "," in days:
        return f"RRULE {rule.rrule}"
    names = get_month_names("wide", locale=language)

    def on(month: int | None) -> str:
        if days == "-1":
            return text["end_of"].format(month=names[month]) if month else text["end_of_month"]
        return f"{days} {names[month]}" if month else text["day"].format(day=days)

    if freq == "YEARLY" and months:
        return f"{text['yearly']}, {_join([on(int(m)) for m in months.split(',')], language)}"
    if freq == "MONTHLY" and not months:
        return f"{text['monthly']}, {on(None)}"
    return f"RRULE {rule.rrule}"


def adjustment(occurrence: Occurrence, language: str) -> str:
    """Why an occurrence's due date is not its nominal date; empty when it is."""
    text = _TEXT[language]
    if occurrence.waiting_for:
        return text["waiting"].format(event=event_name(occurrence.waiting_for, language))
    if occurrence.adjustment is None:
        return ""
    if occurrence.adjustment is Adjustment.OVERRIDE:
        return text["override"].format(note=occurrence.note)
    why = occurrence.note or text["weekend"]
    return text[occurrence.adjustment.value].format(why=why)


def record_meaning(
    schedule: Schedule,
    rule: Rule,
    period: str,
    submitted: datetime,
    verified_at: datetime | None,
    events: EventIndex,
    language: str,
) -> str:
    """What a submission just recorded means, as its confirmation says it: on time or late
    by N days against the period's due date (the engine's reading, `timeliness`; for a rule
    that needs verification, from the moment it was verified), awaiting verification while
    such a rule is not verified, or no due date yet."""
    words = _RECEIPT[language]
    try:
        occurrence = schedule.occurrence(rule, period, events)
    except ValueError:  # a period no date or decree schedules
        return words["no_due"]
    counts = max(submitted, verified_at) if rule.verification and verified_at else submitted
    status, days = timeliness(schedule, occurrence, counts)
    if status is Status.WAITING or occurrence.due is None:
        return words["no_due"] + "; " + adjustment(occurrence, language)
    due = long_date(occurrence.due, language)
    said = words[status.value].format(days=days, due=due)
    if rule.verification and verified_at is None:
        if status is Status.ON_TIME:  # not yet: only once verified by the deadline
            return words["unverified_on_time"].format(due=due)
        return words["unverified"].format(timing=said)
    return said


def value_meaning(value: float, target: float, language: str) -> str:
    """What a measure's value just recorded means: its target met or not, whenever it came
    (a late value is still the period's value, as the engine reads it)."""
    return STATUS[language][Status.MET if value >= target else Status.BELOW]


def days_off(days: Sequence[tuple[date, str]], language: str) -> str:
    """Why the first reminder comes earlier than the ladder's count suggests: the weekdays
    off before the due day, by name ("Cuti Bersama Hari Raya Idul Fitri (2, 3, 4 dan
    7 April)"); empty if none."""
    by_name: dict[str, list[date]] = {}
    for day, name in days:
        if day.weekday() < 5:  # a holiday on a weekend moves nothing
            by_name.setdefault(name, []).append(day)
    named = [f"{name} ({_days(listed, language)})" for name, listed in by_name.items()]
    return _TEXT[language]["days_off"].format(days=_join(named, language)) if named else ""


def _days(days: list[date], language: str) -> str:
    """Days of one name: "2, 3 dan 7 April", the month said once where they share it."""
    months = {(day.year, day.month) for day in days}
    if len(months) > 1:
        return _join([format_date(day, format="d MMMM", locale=language) for day in days], language)
    numbers = [str(day.day) for day in days]
    return f"{_join(numbers, language)} {format_date(days[0], format='MMMM', locale=language)}"


def holiday_policy(rule: Rule, language: str) -> str:
    """What a due date on a day off does for ``rule``, and why where the catalog says."""
    policy = _POLICY[language][rule.holiday_policy.value]
    if not rule.holiday_basis:
        return f"{policy}."
    return _POLICY[language]["basis"].format(policy=policy, basis=rule.holiday_basis)


def confidence(rule: Rule, language: str) -> str:
    """How firmly the deadline is known: set by national law, local practice, or unverified."""
    return _CONFIDENCE[language][rule.confidence.value]


# One cell of the status matrix: a short mark, its colour, and the legend's wording.
_CELLS = {
    Status.ON_TIME: ("✓", "green"),
    Status.PENDING: ("…", "cyan"),
    Status.LATE: ("T+{days}", "yellow"),
    Status.OVERDUE: ("!{days}", "bold red"),
    Status.DUE_TODAY: ("H", "red"),
    Status.DUE_SOON: ("~", "dark_orange"),
    Status.UPCOMING: ("·", "dim"),
    Status.EXEMPT: ("–", "dim"),
    Status.WAITING: ("?", "dim"),
    Status.MET: ("≥", "green"),
    Status.BELOW: ("<", "yellow"),
}


def cell(item: OccurrenceStatus, language: str) -> str:
    """A matrix cell as rich markup: the mark of the status, days where they matter."""
    mark, colour = _CELLS[item.status]
    return f"[{colour}]{mark.format(days=item.days_late or 0)}[/{colour}]"


def legend(language: str) -> str:
    names = STATUS[language]
    return "  ".join(
        f"[{colour}]{mark.format(days='n')}[/{colour}] {names[status]}"
        for status, (mark, colour) in _CELLS.items()
    )
