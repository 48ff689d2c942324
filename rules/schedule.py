"""Due dates: a rule's occurrences on the legal calendar, with the reason for every shift.

An occurrence is one period of one rule (``SKP 2025``, ``EPANTAU 2025-02``).  Its nominal date
comes from the RRULE, or from a recorded event for anchored rules; the holiday policy and the
deadline overrides then give the due date.  An anchored rule whose event is not recorded
yields an occurrence *waiting* for it, never a guessed date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from dateutil.relativedelta import relativedelta

from rules.calendar import LegalCalendar
from rules.catalog import Catalog, Rule
from rules.periods import parse_period, period_of, period_year, shift_period


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened and anchors deadlines, e.g. APBD 2025 adopted on 2024-12-20."""

    code: str
    key: str  # which budget year or period the event belongs to, e.g. "2025"
    day: date


class Adjustment(StrEnum):
    """Why a due date differs from the rule's nominal date."""

    PREVIOUS_WORKING_DAY = "previous_working_day"
    NEXT_WORKING_DAY = "next_working_day"
    OVERRIDE = "override"


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One period of one rule and when it is due (None while waiting for its event)."""

    rule: str
    period: str
    nominal: date | None
    due: date | None
    adjustment: Adjustment | None = None
    note: str = ""  # the holiday's name or the override's reference
    waiting_for: str | None = None

    @property
    def sort_key(self) -> tuple[date, str]:
        return (self.due or date.max, self.period)


EventIndex = Mapping[tuple[str, str], date]


def index_events(events: Iterable[Event]) -> dict[tuple[str, str], date]:
    """Events by (code, key); a later record of the same event replaces an earlier one."""
    return {(event.code, event.key): event.day for event in events}


class Schedule:
    """A catalog on a calendar: the occurrences of every rule, cached per rule and year."""

    def __init__(self, catalog: Catalog, calendar: LegalCalendar) -> None:
        self.catalog = catalog
        self.calendar = calendar
        self._by_year: dict[tuple[str, int], list[Occurrence]] = {}

    def _adjust(self, rule: Rule, period: str, nominal: date) -> Occurrence:
        override = self.catalog.deadlines.get((rule.code, period))
        if override is not None:
            return Occurrence(
                rule.code, period, nominal, override.due, Adjustment.OVERRIDE, override.reference
            )
        due = self.calendar.apply_policy(nominal, rule.holiday_policy)
        if due == nominal:
            return Occurrence(rule.code, period, nominal, due)
        adjustment = (
            Adjustment.PREVIOUS_WORKING_DAY if due < nominal else Adjustment.NEXT_WORKING_DAY
        )
        reason = self.calendar.holiday_name(nominal) or ""  # empty: a weekend
        return Occurrence(rule.code, period, nominal, due, adjustment, reason)

    def _recurring(self, rule: Rule, year: int) -> list[Occurrence]:
        """Occurrences whose nominal date lies in ``year``, plus periods of that year that
        only a decree schedules (a rule with no date of its own can still be given one)."""
        cached = self._by_year.get((rule.code, year))
        if cached is None:
            cached = [
                self._adjust(rule, period_of(day, rule.period, rule.period_lag), day)
                for day in rule.nominal_dates(year)
            ]
            produced = {occ.period for occ in cached}
            cached += [
                Occurrence(
                    rule.code, period, None, decree.due, Adjustment.OVERRIDE, decree.reference
                )
                for (code, period), decree in self.catalog.deadlines.items()
                if code == rule.code
                and self._nominal_year(rule, period) == year
                and period not in produced
            ]
            self._by_year[(rule.code, year)] = cached
        return cached

    @staticmethod
    def _nominal_year(rule: Rule, period: str) -> int:
        """The year a period's nominal date falls in: SPT 2024 is due in 2025 (lag 1)."""
        return period_year(shift_period(period, rule.period, rule.period_lag))

    def _anchored(self, rule: Rule, period: str, events: EventIndex) -> Occurrence:
        assert rule.anchor is not None
        anchor = events.get((rule.anchor.event, period))
        decree = self.catalog.deadlines.get((rule.code, period))
        if anchor is None and decree is not None:  # the decree's date needs no event
            return Occurrence(
                rule.code, period, None, decree.due, Adjustment.OVERRIDE, decree.reference
            )
        if anchor is None:
            return Occurrence(rule.code, period, None, None, waiting_for=rule.anchor.event)
        nominal = anchor + relativedelta(months=rule.anchor.months, days=rule.anchor.days)
        return self._adjust(rule, period, nominal)

    def occurrences(
        self, rule: Rule, start: date, end: date, events: EventIndex | None = None
    ) -> list[Occurrence]:
        """Occurrences due in [start, end], in due order; waiting ones of those years last.

        Nominal dates a year either side are expanded too, since an override or a holiday
        shift may carry a due date across the new year.
        """
        if rule.anchor is not None:
            found = [
                self._anchored(rule, str(year), events or {})
                for year in range(start.year - 1, end.year + 2)
            ]
            return sorted(
                (
                    occ
                    for occ in found
                    if (occ.due is not None and start <= occ.due <= end)
                    or (occ.due is None and start.year <= period_year(occ.period) <= end.year)
                ),
                key=lambda occ: occ.sort_key,
            )
        found = [
            occ
            for year in range(start.year - 1, end.year + 2)
            for occ in self._recurring(rule, year)
            if occ.due is not None and start <= occ.due <= end
        ]
        return sorted(found, key=lambda occ: occ.sort_key)

    def first_reminder(self, rule: Rule, due: date) -> tuple[date, list[tuple[date, str]]]:
        """The day of the ladder's earliest step for a due day, and the named days off from
        then to the due day: the ladder counts working days, so they bring it forward."""
        earliest = min(step.at for step in self.catalog.ladder(rule))
        first = self.calendar.working_day_offset(due, earliest)
        return first, self.calendar.holidays_between(first, due)

    def occurrence(self, rule: Rule, period: str, events: EventIndex | None = None) -> Occurrence:
        """The occurrence of one period; ValueError when the rule has no such period."""
        parse_period(period, rule.period)
        if rule.anchor is not None:
            return self._anchored(rule, period, events or {})
        year = self._nominal_year(rule, period)
        for candidate_year in (year, year + 1):  # a date set late in its period, e.g. 31 Oct
            for occ in self._recurring(rule, candidate_year):
                if occ.period == period:
                    return occ
        raise ValueError(f"{rule.code} has no occurrence for period {period}")
