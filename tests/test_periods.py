"""Periods as the agency names them: a lagged rule's key is the period it reports on, and
people read periods as words, never as keys."""

from __future__ import annotations

from datetime import date

import pytest

from rules.catalog import Catalog
from rules.periods import Granularity, period_of, shift_period
from rules.schedule import Schedule
from scheduler.words import period_name


@pytest.mark.parametrize(
    ("day", "granularity", "lag", "key"),
    [
        (date(2025, 3, 31), Granularity.YEAR, 0, "2025"),
        (date(2025, 3, 31), Granularity.YEAR, 1, "2024"),
        (date(2025, 4, 30), Granularity.YEAR, -1, "2026"),
        (date(2025, 1, 15), Granularity.QUARTER, 1, "2024-Q4"),
        (date(2025, 1, 10), Granularity.MONTH, 1, "2024-12"),
        (date(2025, 7, 31), Granularity.SEMESTER, 1, "2025-S1"),
    ],
)
def test_period_of_with_lag(day: date, granularity: Granularity, lag: int, key: str) -> None:
    assert period_of(day, granularity, lag) == key
    assert shift_period(key, granularity, lag) == period_of(day, granularity)


@pytest.mark.parametrize(
    ("code", "period", "due"),
    [
        ("SPT", "2024", date(2025, 3, 31)),  # tax year 2024, filed by 31 March 2025
        ("LHKPN", "2024", date(2025, 4, 11)),  # KPK's decree for reporting year 2024
        ("LHKPN", "2025", date(2026, 3, 31)),
        ("LKJP", "2024", date(2025, 2, 28)),
        ("LKSKPD", "2024", date(2025, 1, 24)),
        ("SHS", "2026", date(2025, 4, 30)),  # proposed in April 2025 for budget year 2026
        ("SKP", "2025", date(2025, 2, 28)),  # the 2025 plan, no lag
        ("EPANTAU", "2025-02", date(2025, 2, 10)),
    ],
)
def test_a_period_is_the_one_the_agency_names(
    schedule: Schedule, catalog: Catalog, code: str, period: str, due: date
) -> None:
    assert schedule.occurrence(catalog.rules[code], period).due == due
    found = schedule.occurrences(catalog.rules[code], due, due)
    assert [occ.period for occ in found] == [period]  # once, not also under the decree's year


@pytest.mark.parametrize(
    ("code", "period", "indonesian", "english"),
    [
        ("SPT", "2024", "Tahun Pajak 2024", "tax year 2024"),
        ("LHKPN", "2024", "Tahun 2024", "year 2024"),
        ("SHS", "2026", "untuk TA 2026", "for budget year 2026"),
        ("LKSKPD", "2024", "TA 2024", "financial year 2024"),
        ("SKP", "2025", "Tahun 2025", "year 2025"),
        ("EPANTAU", "2025-01", "Januari 2025", "January 2025"),
        ("SERAPAN", "2025-12", "Desember 2025", "December 2025"),
        ("MR", "2025-Q1", "Triwulan I 2025", "quarter I 2025"),
        ("MR", "2025-Q4", "Triwulan IV 2025", "quarter IV 2025"),
        ("SKM_RTL", "2025-S1", "Semester I 2025", "semester I 2025"),
        ("SKM_RTL", "2025-S2", "Semester II 2025", "semester II 2025"),
        ("EPANTAU", "2025", "2025", "2025"),  # not a month key: shown as it is
    ],
)
def test_period_words(
    catalog: Catalog, code: str, period: str, indonesian: str, english: str
) -> None:
    assert period_name(catalog.rules[code], period, "id") == indonesian
    assert period_name(catalog.rules[code], period, "en") == english
