"""Period keys: the name of the stretch of time an occurrence belongs to.

A period key is what people type and what submissions are filed under: ``2025`` (a year),
``2025-S1`` (a semester), ``2025-Q1`` (a quarter), ``2025-02`` (a month).  Keys sort in
time order within one granularity, which lets the engine compare them as plain strings.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum


class Granularity(StrEnum):
    """How long one period of a rule lasts."""

    YEAR = "year"
    SEMESTER = "semester"
    QUARTER = "quarter"
    MONTH = "month"

    @property
    def months(self) -> int:
        return {"year": 12, "semester": 6, "quarter": 3, "month": 1}[self.value]


_PATTERNS: dict[Granularity, re.Pattern[str]] = {
    Granularity.YEAR: re.compile(r"(\d{4})"),
    Granularity.SEMESTER: re.compile(r"(\d{4})-S([12])"),
    Granularity.QUARTER: re.compile(r"(\d{4})-Q([1-4])"),
    Granularity.MONTH: re.compile(r"(\d{4})-(0[1-9]|1[0-2])"),
}

EXAMPLES: dict[Granularity, str] = {
    Granularity.YEAR: "2025",
    Granularity.SEMESTER: "2025-S1",
    Granularity.QUARTER: "2025-Q1",
    Granularity.MONTH: "2025-02",
}


def _index(year: int, part: int, granularity: Granularity) -> int:
    """Periods since year 0, so that keys can be shifted by whole periods."""
    return year * (12 // granularity.months) + part - 1


def _key(index: int, granularity: Granularity) -> str:
    per_year = 12 // granularity.months
    year, part = divmod(index, per_year)
    part += 1
    if granularity is Granularity.YEAR:
        return f"{year:04d}"
    if granularity is Granularity.SEMESTER:
        return f"{year:04d}-S{part}"
    if granularity is Granularity.QUARTER:
        return f"{year:04d}-Q{part}"
    return f"{year:04d}-{part:02d}"


def period_of(day: date, granularity: Granularity, lag: int = 0) -> str:
    """The key of the period holding ``day``, moved back ``lag`` periods.

    ``lag`` serves rules whose deadline falls after the period it reports on, e.g. a
    quarterly report due on the 15th of the following month has ``lag = 1`` and the SPT
    Tahunan due 31 March 2025 reports on tax year 2024; a negative lag is a lead, for a
    proposal made for a later period (SHS proposed in April 2025 for budget year 2026).
    """
    part = (day.month - 1) // granularity.months + 1
    return _key(_index(day.year, part, granularity) - lag, granularity)


def shift_period(key: str, granularity: Granularity, by: int) -> str:
    """The key ``by`` periods after ``key`` (before it when negative): the period whose
    nominal date a lagged rule's period falls in is ``shift_period(key, g, rule.period_lag)``."""
    year, part = parse_period(key, granularity)
    return _key(_index(year, part, granularity) + by, granularity)


def parse_period(key: str, granularity: Granularity) -> tuple[int, int]:
    """Split a key into (year, part); raise ValueError with an example when malformed."""
    match = _PATTERNS[granularity].fullmatch(key)
    if match is None:
        raise ValueError(
            f"period {key!r} is not a {granularity.value} key "
            f"(expected e.g. {EXAMPLES[granularity]})"
        )
    year = int(match.group(1))
    part = int(match.group(2)) if match.lastindex and match.lastindex > 1 else 1
    return year, part


def iso_week(day: date) -> str:
    """The ISO week holding ``day``, e.g. ``2025-W10``: the period of a weekly digest."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def period_year(key: str) -> int:
    """The calendar year a key names (its first four digits)."""
    return int(key[:4])
