"""The legal calendar: Indonesian holidays and cuti bersama, overrides, H-n arithmetic, WITA."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from rules.calendar import (
    WITA,
    CalendarWarning,
    DayOverride,
    HolidayPolicy,
    LegalCalendar,
    SendingWindow,
)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2025, 3, 28), "Cuti Bersama Hari Suci Nyepi"),
        (date(2025, 3, 31), "Hari Raya Idul Fitri"),
        (date(2025, 4, 1), "Hari kedua dari Hari Raya Idul Fitri"),
        (date(2025, 4, 2), "Cuti Bersama Hari Raya Idul Fitri"),
        (date(2025, 4, 3), "Cuti Bersama Hari Raya Idul Fitri"),
        (date(2025, 4, 4), "Cuti Bersama Hari Raya Idul Fitri"),
        (date(2025, 4, 7), "Cuti Bersama Hari Raya Idul Fitri"),
        (date(2025, 8, 18), "Cuti Bersama Hari Kemerdekaan Republik Indonesia"),
        (date(2025, 12, 26), "Cuti Bersama Hari Raya Natal"),
        (date(2026, 2, 16), "Cuti Bersama Tahun Baru Imlek"),
    ],
)
def test_holidays_and_cuti_bersama_are_not_working(
    calendar: LegalCalendar, day: date, name: str
) -> None:
    assert day.weekday() < 5
    assert not calendar.is_working_day(day)
    assert calendar.holiday_name(day) == name


@pytest.mark.parametrize(
    "day", [date(2025, 3, 27), date(2025, 4, 8), date(2025, 2, 28), date(2026, 3, 31)]
)
def test_ordinary_weekdays_are_working(calendar: LegalCalendar, day: date) -> None:
    assert calendar.is_working_day(day)
    assert calendar.holiday_name(day) is None


def test_weekends_are_not_working(calendar: LegalCalendar) -> None:
    weekend = [d for d in days(date(2025, 1, 1), date(2030, 12, 31)) if d.weekday() >= 5]
    assert len(weekend) > 600
    assert not any(calendar.is_working_day(d) for d in weekend)


def test_2026_has_cuti_bersama_in_the_data(calendar: LegalCalendar) -> None:
    """Fails when the installed ``holidays`` package predates the 2026 SKB."""
    cuti = [d for d, name in calendar.holidays(2026).items() if "Cuti Bersama" in name]
    assert len(cuti) >= 5
    assert calendar.warnings(2026) == []


def test_warnings(calendar: LegalCalendar) -> None:
    assert calendar.warnings(2025) == []
    assert calendar.warnings(2030) == [CalendarWarning.NO_CUTI_BERSAMA, CalendarWarning.ESTIMATES]


def test_cuti_bersama_override_silences_warning() -> None:
    added = LegalCalendar(
        [DayOverride(date(2030, 2, 6), False, "Cuti bersama Idul Fitri", "SKB 3 Menteri 2029")]
    )
    assert not added.is_working_day(date(2030, 2, 6))
    assert added.warnings(2030) == [CalendarWarning.ESTIMATES]


def test_cuti_bersama_override_with_package_spelling_silences_warning() -> None:
    added = LegalCalendar(
        [DayOverride(date(2030, 2, 6), False, "Cuti Bersama Idul Fitri", "SKB 3 Menteri 2029")]
    )
    assert added.warnings(2030) == [CalendarWarning.ESTIMATES]


def test_day_override_adds_and_removes_holidays(calendar: LegalCalendar) -> None:
    added, removed = date(2025, 9, 8), date(2025, 12, 26)  # a Monday; cuti bersama Natal
    assert calendar.is_working_day(added) and not calendar.is_working_day(removed)
    corrected = LegalCalendar(
        [
            DayOverride(added, False, "Libur daerah", "SK Bupati 1/2025"),
            DayOverride(removed, True, "Cuti bersama Natal dibatalkan", "SKB perubahan"),
        ]
    )
    assert not corrected.is_working_day(added)
    assert corrected.holiday_name(added) == "Libur daerah"
    assert added in corrected.holidays(2025)
    assert corrected.is_working_day(removed)
    assert corrected.holiday_name(removed) is None
    assert removed not in corrected.holidays(2025)
    assert corrected.previous_working_day(date(2025, 9, 8)) == date(2025, 9, 4)  # Fri 5 Maulid
    assert calendar.is_working_day(added)  # the shared calendar is untouched


@pytest.mark.parametrize(
    ("day", "policy", "expected"),
    [
        (date(2025, 3, 31), HolidayPolicy.FIXED, date(2025, 3, 31)),
        (date(2025, 3, 31), HolidayPolicy.PREVIOUS_WORKING_DAY, date(2025, 3, 27)),
        (date(2025, 3, 31), HolidayPolicy.NEXT_WORKING_DAY, date(2025, 4, 8)),
        (date(2025, 3, 27), HolidayPolicy.NEXT_WORKING_DAY, date(2025, 3, 27)),
        (date(2028, 12, 31), HolidayPolicy.NEXT_WORKING_DAY, date(2029, 1, 2)),
    ],
)
def test_apply_policy(
    calendar: LegalCalendar, day: date, policy: HolidayPolicy, expected: date
) -> None:
    assert calendar.apply_policy(day, policy) == expected


# ---- H-n / H / H+n ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "offset", "expected"),
    [
        (date(2025, 3, 2), 0, date(2025, 2, 28)),  # Sunday due: H is the Friday before
        (date(2025, 2, 28), 0, date(2025, 2, 28)),  # a working day is its own H
        (date(2024, 2, 11), 0, date(2024, 2, 7)),  # Sun; Sat Imlek, Fri cuti, Thu Isra Mikraj
        (date(2025, 3, 31), 0, date(2025, 3, 27)),  # Idul Fitri; Sat Nyepi; Fri cuti bersama
        (date(2025, 3, 31), -1, date(2025, 3, 26)),
        (date(2025, 3, 31), -3, date(2025, 3, 24)),
        (date(2025, 3, 2), -1, date(2025, 2, 27)),
        (date(2025, 3, 31), 1, date(2025, 4, 8)),  # after the whole Idul Fitri block
        (date(2025, 3, 31), 5, date(2025, 4, 14)),
        (date(2025, 3, 2), 1, date(2025, 3, 3)),
        (date(2025, 12, 24), 1, date(2025, 12, 29)),  # 25 Natal, 26 cuti bersama, weekend
    ],
)
def test_working_day_offset(
    calendar: LegalCalendar, due: date, offset: int, expected: date
) -> None:
    assert calendar.working_day_offset(due, offset) == expected


def test_working_day_offset_always_lands_on_working_days(calendar: LegalCalendar) -> None:
    for due in days(date(2024, 12, 1), date(2027, 1, 31)):
        h = calendar.previous_working_day(due)
        for offset in range(-7, 8):
            day = calendar.working_day_offset(due, offset)
            assert calendar.is_working_day(day), (due, offset)
            if offset <= 0:
                lo, hi = day, h
            else:
                lo, hi = due + timedelta(days=1), day
            counted = sum(calendar.is_working_day(d) for d in days(lo, hi))
            assert counted == (abs(offset) + 1 if offset <= 0 else offset), (due, offset)


# ---- WITA -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "midnight"),
    [
        (date(2025, 2, 28), datetime(2025, 3, 1, tzinfo=WITA)),
        (date(2028, 2, 28), datetime(2028, 2, 29, tzinfo=WITA)),
        (date(2025, 12, 31), datetime(2026, 1, 1, tzinfo=WITA)),
    ],
)
def test_deadline_is_midnight_after_due_in_wita(
    calendar: LegalCalendar, due: date, midnight: datetime
) -> None:
    end = calendar.deadline(due)
    assert end == midnight
    assert end.utcoffset() == timedelta(hours=8)
    assert end.astimezone(UTC) == datetime.combine(due, datetime.min.time(), UTC) + timedelta(
        hours=16
    )
    # exclusive bound: the instant before it still belongs to the due day
    assert (end - timedelta(microseconds=1)).date() == due


def test_at_is_local_wall_clock(calendar: LegalCalendar) -> None:
    moment = calendar.at(date(2025, 2, 28), datetime.min.time().replace(hour=8))
    assert moment.astimezone(UTC) == datetime(2025, 2, 28, 0, 0, tzinfo=UTC)
    assert str(WITA) == "Asia/Makassar"


WINDOW = SendingWindow(time(7, 30), time(17, 0), working_days_only=True)


@pytest.mark.parametrize(
    ("now", "opens"),
    [
        ("2025-03-03 09:00", "2025-03-03 09:00"),  # Monday, inside: now
        ("2025-03-03 07:29", "2025-03-03 07:30"),  # before opening: the same morning
        ("2025-03-03 17:00", "2025-03-04 07:30"),  # closing time is outside
        ("2025-03-07 22:00", "2025-03-10 07:30"),  # Friday night → Monday
        ("2025-03-08 10:00", "2025-03-10 07:30"),  # Saturday → Monday
        ("2025-03-28 18:00", "2025-04-08 07:30"),  # Nyepi + Idul Fitri + cuti bersama
    ],
)
def test_sending_window_defers_to_the_next_opening(
    calendar: LegalCalendar, now: str, opens: str
) -> None:
    moment = datetime.fromisoformat(now).replace(tzinfo=calendar.tz)
    assert calendar.sending_window(moment, WINDOW) == datetime.fromisoformat(opens).replace(
        tzinfo=calendar.tz
    )


def test_sending_window_every_day_and_from_utc(calendar: LegalCalendar) -> None:
    daily = SendingWindow(time(7, 30), time(17, 0), working_days_only=False)
    saturday_night_utc = datetime(2025, 3, 8, 10, 0, tzinfo=UTC)  # 18:00 WITA
    assert calendar.sending_window(saturday_night_utc, daily) == datetime(
        2025, 3, 9, 7, 30, tzinfo=calendar.tz
    )
    inside = datetime(2025, 3, 8, 2, 0, tzinfo=UTC)  # Saturday 10:00 WITA
    assert calendar.sending_window(inside, daily) is inside


def test_a_working_override_on_a_weekend_makes_it_a_working_day() -> None:
    """A Saturday declared a working day (a make-up day, ``working = true``) counts as one
    everywhere: in the check itself, in the H-n arithmetic, in the holiday policy and in
    the sending window."""
    saturday = date(2025, 9, 13)
    assert saturday.weekday() == 5
    plain = LegalCalendar()
    assert not plain.is_working_day(saturday)
    made_up = LegalCalendar([DayOverride(saturday, True, "Hari kerja pengganti", "SE 1/2025")])
    assert made_up.is_working_day(saturday)
    assert not made_up.is_working_day(date(2025, 9, 14))  # the Sunday after stays off
    assert made_up.previous_working_day(date(2025, 9, 14)) == saturday
    assert made_up.next_working_day(saturday) == saturday
    assert made_up.apply_policy(saturday, HolidayPolicy.NEXT_WORKING_DAY) == saturday
    assert made_up.working_day_offset(date(2025, 9, 12), 1) == saturday  # H+1 of a Friday
    assert made_up.working_day_offset(date(2025, 9, 14), 0) == saturday  # H of a Sunday
    morning = datetime(2025, 9, 13, 9, tzinfo=made_up.tz)
    assert made_up.sending_window(morning, WINDOW) is morning
    assert plain.sending_window(morning, WINDOW) == datetime(2025, 9, 15, 7, 30, tzinfo=WITA)
