"""Due dates of every shipped rule on the legal calendar, 2025–2030, and their adjustments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest

from rules.calendar import WITA, LegalCalendar
from rules.catalog import Catalog, Source
from rules.evaluate import Assignment, Person, Roster, Submission, evaluate
from rules.plan import plan
from rules.schedule import Adjustment, Event, Occurrence, Schedule, index_events

YEARS = range(2025, 2031)
Expected = list[tuple[str, date | None]]


def last_day(year: int, month: int) -> date:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def monthly(day: Callable[[int, int], date]) -> Callable[[int], Expected]:
    return lambda y: [(f"{y}-{m:02d}", day(y, m)) for m in range(1, 13)]


def yearly(month: int, day: int | None = None, lag: int = 0) -> Callable[[int], Expected]:
    """Due in year Y for the period the rule names: Y - lag (SPT due 2025 is tax year 2024)."""
    return lambda y: [(str(y - lag), date(y, month, day) if day else last_day(y, month))]


# (period, due) of every occurrence due in year Y, for each shipped rule; PK is waiting.
EXPECTED: dict[str, Callable[[int], Expected]] = {
    "SKP": yearly(2),
    "SPT": yearly(3, 31, lag=1),
    "LHKPN": lambda y: [(str(y - 1), date(2025, 4, 11) if y == 2025 else date(y, 3, 31))],
    "EPANTAU": monthly(lambda y, m: date(y, m, 10)),
    "P3DN": monthly(lambda y, m: date(y, m, 25)),
    "SKM_RTL": lambda y: [(f"{y}-S1", date(y, 6, 30)), (f"{y}-S2", date(y, 10, 31))],
    "LKJP": yearly(2, lag=1),
    "LKSKPD": yearly(1, 24, lag=1),
    "SIRUP": yearly(2),
    "SHS": yearly(4, 30, lag=-1),
    "SPP": yearly(6, 30),
    "PK": lambda y: [(str(y), None)],
    "MR": lambda y: [(f"{y}-Q{q}", last_day(y, 3 * q)) for q in range(1, 5)],
    "RKBM": lambda y: [],
    "SERAPAN": monthly(last_day),
}


def year_of(schedule: Schedule, code: str, year: int) -> list[Occurrence]:
    rule = schedule.catalog.get(code)
    return schedule.occurrences(rule, date(year, 1, 1), date(year, 12, 31))


def schedule_with(make_catalog: Callable[..., Catalog], text: str) -> Schedule:
    return Schedule(make_catalog(Source("config.toml", text)), LegalCalendar())


def test_table_covers_every_shipped_rule(catalog: Catalog) -> None:
    assert set(EXPECTED) == set(catalog.rules)
    assert len(catalog.rules) == 15


# Documents handed to an office: a due day off moves to the next working day.
HANDED_IN = {"P3DN", "SKM_RTL", "LKJP", "LKSKPD", "SHS", "SPP", "PK", "MR", "RKBM"}


def expected_due(code: str, year: int) -> Expected:
    """EXPECTED's nominal dates as the rule's holiday policy moves them, those due in
    ``year`` (a 31 December on a Sunday is due in the next year)."""
    if code not in HANDED_IN or code == "PK":  # PK waits for its event: no date to move
        return EXPECTED[code](year)
    calendar = LegalCalendar()
    moved = [
        (period, calendar.next_working_day(day) if day else None)
        for shown in (year - 1, year)
        for period, day in EXPECTED[code](shown)
    ]
    return [(period, day) for period, day in moved if day is None or day.year == year]


def test_handed_in_rules_move_to_the_next_working_day(catalog: Catalog) -> None:
    moving = {code for code, rule in catalog.rules.items() if rule.holiday_policy.value != "fixed"}
    assert moving == HANDED_IN


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("code", EXPECTED)
def test_due_dates(schedule: Schedule, code: str, year: int) -> None:
    found = year_of(schedule, code, year)
    assert [(occ.period, occ.due) for occ in found] == expected_due(code, year)
    for occ in found:
        assert occ.rule == code
        if (code, year) == ("LHKPN", 2025):
            assert occ.adjustment is Adjustment.OVERRIDE
        elif occ.due is not None and code not in HANDED_IN:  # fixed: no shift, no note
            assert (occ.nominal, occ.adjustment, occ.note) == (occ.due, None, "")
        elif occ.due is not None and occ.due != occ.nominal:  # moved, and says why
            assert occ.adjustment is Adjustment.NEXT_WORKING_DAY
            assert occ.note == (LegalCalendar().holiday_name(occ.nominal) or "")


def test_skp_leap_february(schedule: Schedule) -> None:
    assert [occ.due for occ in year_of(schedule, "SKP", 2028)] == [date(2028, 2, 29)]


@pytest.mark.parametrize(
    ("year", "weekday"), [(2024, 6), (2025, 0), (2029, 5), (2030, 6)]
)  # Sunday, Monday (Idul Fitri), Saturday, Sunday
def test_spt_is_never_shifted(
    schedule: Schedule, calendar: LegalCalendar, year: int, weekday: int
) -> None:
    (occ,) = year_of(schedule, "SPT", year)
    assert occ.due == occ.nominal == date(year, 3, 31)
    assert occ.due.weekday() == weekday
    assert occ.adjustment is None
    assert not calendar.is_working_day(occ.due)


def test_lhkpn_2025_extended_by_kpk(schedule: Schedule) -> None:
    occ = schedule.occurrence(schedule.catalog.get("LHKPN"), "2024")  # reporting year 2024
    assert (occ.nominal, occ.due) == (date(2025, 3, 31), date(2025, 4, 11))
    assert occ.adjustment is Adjustment.OVERRIDE
    assert "KPK" in occ.note


def test_whole_range_query_matches_yearly_queries(schedule: Schedule) -> None:
    for code, rule in schedule.catalog.rules.items():
        whole = schedule.occurrences(rule, date(2025, 1, 1), date(2030, 12, 31))
        assert whole == [occ for y in YEARS for occ in year_of(schedule, code, y)], code
        periods = [occ.period for occ in whole]
        assert len(periods) == len(set(periods)), code


def test_rkbm_unscheduled_until_configured(
    schedule: Schedule, make_catalog: Callable[..., Catalog]
) -> None:
    assert not schedule.catalog.get("RKBM").scheduled
    configured = schedule_with(
        make_catalog, '[rules.RKBM]\nrrule = "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=15"\n'
    )
    assert configured.catalog.get("RKBM").scheduled
    for year in YEARS:
        found = year_of(configured, "RKBM", year)
        assert [(occ.period, occ.nominal) for occ in found] == [(str(year), date(year, 3, 15))]


# ---- PK: anchored one month after the APBD of its budget year is adopted --------------------


@pytest.mark.parametrize(
    ("adopted", "due"),
    [
        (date(2024, 12, 20), date(2025, 1, 20)),
        (date(2025, 1, 31), date(2025, 2, 28)),  # relativedelta clamps to the month's end
        (date(2024, 1, 31), date(2024, 2, 29)),
    ],
)
def test_pk_due_one_month_after_apbd(schedule: Schedule, adopted: date, due: date) -> None:
    pk = schedule.catalog.get("PK")
    key = str(due.year)
    events = {("APBD_ADOPTED", key): adopted}
    occ = schedule.occurrence(pk, key, events)
    assert (occ.period, occ.nominal, occ.due, occ.waiting_for) == (key, due, due, None)
    found = schedule.occurrences(pk, date(due.year, 1, 1), date(due.year, 12, 31), events)
    assert found == [occ]


def test_pk_event_of_another_year_does_not_count(schedule: Schedule) -> None:
    pk = schedule.catalog.get("PK")
    events = {("APBD_ADOPTED", "2025"): date(2024, 12, 20)}
    found = schedule.occurrences(pk, date(2026, 1, 1), date(2026, 12, 31), events)
    assert [(occ.period, occ.due, occ.waiting_for) for occ in found] == [
        ("2026", None, "APBD_ADOPTED")
    ]


def test_pk_waits_without_event(schedule: Schedule) -> None:
    pk = schedule.catalog.get("PK")
    found = schedule.occurrences(pk, date(2025, 1, 1), date(2030, 12, 31))
    assert [occ.period for occ in found] == [str(y) for y in YEARS]
    assert all(occ.due is None and occ.waiting_for == "APBD_ADOPTED" for occ in found)
    occ = schedule.occurrence(pk, "2026")
    assert (occ.due, occ.nominal, occ.waiting_for) == (None, None, "APBD_ADOPTED")


# ---- holiday policies, overrides, period keys ----------------------------------------------


@pytest.mark.parametrize(
    ("policy", "year", "due", "adjustment"),
    [
        # 31 Mar 2024 is Easter Sunday; 29 Mar 2024 is Good Friday.
        ("next_working_day", 2024, date(2024, 4, 1), Adjustment.NEXT_WORKING_DAY),
        ("previous_working_day", 2024, date(2024, 3, 28), Adjustment.PREVIOUS_WORKING_DAY),
        # 31 Mar 2025 Idul Fitri, 29 Nyepi (Sat), 28 cuti bersama; 1-7 Apr Idul Fitri leave.
        ("previous_working_day", 2025, date(2025, 3, 27), Adjustment.PREVIOUS_WORKING_DAY),
        ("next_working_day", 2025, date(2025, 4, 8), Adjustment.NEXT_WORKING_DAY),
        # 31 Mar 2029 is a plain Saturday, 30 Mar 2029 Good Friday.
        ("previous_working_day", 2029, date(2029, 3, 29), Adjustment.PREVIOUS_WORKING_DAY),
        ("next_working_day", 2030, date(2030, 4, 1), Adjustment.NEXT_WORKING_DAY),
        # 31 Mar 2026 is an ordinary Tuesday: nothing to shift.
        ("previous_working_day", 2026, date(2026, 3, 31), None),
        ("next_working_day", 2026, date(2026, 3, 31), None),
    ],
)
def test_spt_holiday_policy(
    make_catalog: Callable[..., Catalog],
    calendar: LegalCalendar,
    policy: str,
    year: int,
    due: date,
    adjustment: Adjustment | None,
) -> None:
    shifted = schedule_with(make_catalog, f'[rules.SPT]\nholiday_policy = "{policy}"\n')
    (occ,) = year_of(shifted, "SPT", year)
    nominal = date(year, 3, 31)
    assert (occ.nominal, occ.due, occ.adjustment) == (nominal, due, adjustment)
    assert calendar.is_working_day(due)
    step = 1 if due > nominal else -1
    between = [nominal + timedelta(days=n) for n in range(0, (due - nominal).days, step)]
    assert not any(calendar.is_working_day(d) for d in between)
    expected_note = (calendar.holiday_name(nominal) or "") if adjustment else ""
    assert occ.note == expected_note


def test_shift_notes_name_holiday_or_weekend(make_catalog: Callable[..., Catalog]) -> None:
    shifted = schedule_with(make_catalog, '[rules.SPT]\nholiday_policy = "previous_working_day"\n')
    notes = {y: year_of(shifted, "SPT", y)[0].note for y in (2024, 2025, 2029, 2030)}
    assert notes == {
        2024: "Kebangkitan Yesus Kristus",
        2025: "Hari Raya Idul Fitri",
        2029: "",
        2030: "",
    }


DEADLINE_SPT_2026 = """
[[deadline]]
rule = "SPT"
period = "2025"
due = 2026-04-30
reference = "KEP-99/PJ/2026"
"""


def test_deadline_override_moves_one_period(make_catalog: Callable[..., Catalog]) -> None:
    moved = schedule_with(make_catalog, DEADLINE_SPT_2026)
    spt = moved.catalog.get("SPT")
    (occ,) = year_of(moved, "SPT", 2026)
    assert (occ.period, occ.nominal, occ.due) == ("2025", date(2026, 3, 31), date(2026, 4, 30))
    assert (occ.adjustment, occ.note) == (Adjustment.OVERRIDE, "KEP-99/PJ/2026")
    assert moved.occurrence(spt, "2025") == occ
    assert [o.due for o in year_of(moved, "SPT", 2027)] == [date(2027, 3, 31)]
    # the shipped LHKPN 2025 override survives a config document with its own [[deadline]]
    assert moved.occurrence(moved.catalog.get("LHKPN"), "2024").due == date(2025, 4, 11)


def test_override_across_new_year_found_in_new_year(
    make_catalog: Callable[..., Catalog],
) -> None:
    moved = schedule_with(
        make_catalog,
        '[[deadline]]\nrule = "SERAPAN"\nperiod = "2025-12"\ndue = 2026-01-05\n'
        'reference = "SE Sekda 2025"\n',
    )
    first = year_of(moved, "SERAPAN", 2026)[0]
    assert (first.period, first.due, first.adjustment) == (
        "2025-12",
        date(2026, 1, 5),
        Adjustment.OVERRIDE,
    )
    assert [o.period for o in year_of(moved, "SERAPAN", 2025)][-1] == "2025-11"


def test_holiday_shift_across_new_year(make_catalog: Callable[..., Catalog]) -> None:
    # 31 Dec 2028 is a Sunday and 1 Jan 2029 New Year's Day.
    shifted = schedule_with(make_catalog, '[rules.SERAPAN]\nholiday_policy = "next_working_day"\n')
    first = year_of(shifted, "SERAPAN", 2029)[0]
    assert (first.period, first.nominal, first.due) == (
        "2028-12",
        date(2028, 12, 31),
        date(2029, 1, 2),
    )
    assert "2028-12" not in [o.period for o in year_of(shifted, "SERAPAN", 2028)]


@pytest.mark.parametrize(
    ("code", "period", "example"),
    [
        ("SPT", "2025-13", "2025"),
        ("SPT", "25", "2025"),
        ("EPANTAU", "2025-13", "2025-02"),
        ("EPANTAU", "2025-1", "2025-02"),
        ("SKM_RTL", "2025-S3", "2025-S1"),
        ("MR", "2025-Q5", "2025-Q1"),
        ("PK", "2025-01", "2025"),
    ],
)
def test_malformed_period_names_an_example(
    schedule: Schedule, code: str, period: str, example: str
) -> None:
    with pytest.raises(ValueError, match=rf"{period!r}.*\(expected e\.g\. {example}\)"):
        schedule.occurrence(schedule.catalog.get(code), period)


# ---- bugs ---------------------------------------------------------------------------------


def test_deadline_for_unscheduled_rule_not_silently_dropped(
    make_catalog: Callable[..., Catalog],
) -> None:
    text = '[[deadline]]\nrule = "RKBM"\nperiod = "2026"\ndue = 2026-05-15\nreference = "SE"\n'
    try:
        moved = schedule_with(make_catalog, text)
    except ValueError:  # refusing it at load time would be fine too
        return
    assert [o.due for o in year_of(moved, "RKBM", 2026)] == [date(2026, 5, 15)]


def test_deadline_for_anchored_rule_applies_without_event(
    make_catalog: Callable[..., Catalog],
) -> None:
    text = '[[deadline]]\nrule = "PK"\nperiod = "2026"\ndue = 2026-02-15\nreference = "SE"\n'
    moved = schedule_with(make_catalog, text)
    occ = moved.occurrence(moved.catalog.get("PK"), "2026")
    assert (occ.due, occ.adjustment, occ.waiting_for) == (
        date(2026, 2, 15),
        Adjustment.OVERRIDE,
        None,
    )


QUARTERLY_LAGGED = """
[[rule]]
code = "TRIWULAN"
name = "Laporan triwulanan"
rrule = "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYMONTHDAY=15"
period = "quarter"
period_lag = 1
holiday_policy = "fixed"
source = "SE Bupati (uji)"
confidence = "local"
"""


def test_a_lagged_rule_reports_on_the_period_before_its_deadline(
    make_catalog: Callable[..., Catalog],
) -> None:
    """``period_lag = 1``: the report due on 15 April is the first quarter's, the one due
    in January the previous year's last; each period is found by its key, across the
    year, and a reminder names the period it asks for."""
    lagged = schedule_with(make_catalog, QUARTERLY_LAGGED)
    rule = lagged.catalog.get("TRIWULAN")
    assert [(o.period, o.due) for o in year_of(lagged, "TRIWULAN", 2025)] == [
        ("2024-Q4", date(2025, 1, 15)),
        ("2025-Q1", date(2025, 4, 15)),
        ("2025-Q2", date(2025, 7, 15)),
        ("2025-Q3", date(2025, 10, 15)),
    ]
    assert lagged.occurrence(rule, "2025-Q4").due == date(2026, 1, 15)
    assert lagged.occurrence(rule, "2025-Q1").due == date(2025, 4, 15)
    roster = Roster({"A": Person("A")}, [Assignment("A", "TRIWULAN")])
    at = datetime(2025, 4, 15, 9, tzinfo=WITA)  # its due day, after the reminder time
    notices = plan(lagged, roster, evaluate(lagged, roster, [], [], at))
    january = ("2024-Q4", date(2025, 1, 15))  # still open: overdue since January
    assert {(n.period, n.due) for n in notices} == {january, ("2025-Q1", date(2025, 4, 15))}
    handed_in = [Submission("TRIWULAN", "2025-Q1", at, "A")]
    notices = plan(lagged, roster, evaluate(lagged, roster, handed_in, [], at))
    assert {(n.period, n.due) for n in notices} == {january}


# The period each rule names for its deadline in 2026: the SPT due in 2026 is tax year 2025.
PERIODS_DUE_IN_2026 = {"SPT": "2025", "PK": "2026", "RKBM": "2026"}


def test_a_decreed_deadline_on_a_saturday_is_never_moved(
    make_catalog: Callable[..., Catalog],
) -> None:
    """A [[deadline]] is a date set by decree: the rule's holiday policy moves the
    rule's own dates off a weekend, never the decree's (Adjustment.OVERRIDE).  So for a
    recurring rule, an anchored one with its event recorded, and one with no date of its
    own, a decree falling on Saturday 2 May 2026 stays there (the anchored rule's with its
    event recorded or not)."""
    saturday = date(2026, 5, 2)
    assert saturday.weekday() == 5
    text = (
        '[rules.SPT]\nholiday_policy = "previous_working_day"\n'
        '[rules.PK]\nholiday_policy = "next_working_day"\n'
        '[rules.RKBM]\nholiday_policy = "next_working_day"\n'
        + "".join(
            f'[[deadline]]\nrule = "{code}"\nperiod = "{period}"\n'
            f'due = {saturday}\nreference = "SE"\n'
            for code, period in PERIODS_DUE_IN_2026.items()
        )
    )
    decreed = schedule_with(make_catalog, text)
    anchor = decreed.catalog.get("PK").anchor
    assert anchor is not None
    events = index_events([Event(anchor.event, "2026", date(2026, 1, 5))])
    for code, known in (("SPT", {}), ("PK", events), ("PK", {}), ("RKBM", {})):
        period = PERIODS_DUE_IN_2026[code]
        occ = decreed.occurrence(decreed.catalog.get(code), period, known)
        assert (code, occ.due, occ.adjustment) == (code, saturday, Adjustment.OVERRIDE)
    # the policy itself is in force: SPT's own date (a Saturday in 2029) does move
    (own,) = year_of(decreed, "SPT", 2029)
    assert (own.nominal, own.due) == (date(2029, 3, 31), date(2029, 3, 29))  # Good Friday
