"""The legal calendar: WITA time, working days, Indonesian holidays and local corrections.

Working days are Monday to Friday minus national holidays and *cuti bersama*.  The dates come
from the ``holidays`` package (categories public + government, names in Indonesian); an
override table supplies what the package lacks or gets wrong, each entry with its reference,
because holiday lists change by decree during the year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

WITA = ZoneInfo("Asia/Makassar")


class HolidayPolicy(StrEnum):
    """What happens to a due date that falls on a non-working day."""

    FIXED = "fixed"
    PREVIOUS_WORKING_DAY = "previous_working_day"
    NEXT_WORKING_DAY = "next_working_day"


class CalendarWarning(StrEnum):
    """A gap in the holiday data of a year."""

    NO_CUTI_BERSAMA = "no_cuti_bersama"  # the SKB of the year is not in the data yet
    ESTIMATES = "estimates"  # lunar holidays whose dates are still estimates (perkiraan)


@dataclass(frozen=True, slots=True)
class DayOverride:
    """A correction to the holiday list: ``working=False`` adds a holiday, ``True`` removes one."""

    day: date
    working: bool
    name: str
    reference: str


@dataclass(frozen=True)
class SendingWindow:
    """When people may be messaged: from ``start`` to ``end`` local time, and on working
    days only unless ``working_days_only`` is off.  The default is the office day."""

    start: time = time(7, 30)
    end: time = time(17, 0)
    working_days_only: bool = True


class LegalCalendar:
    """Working-day arithmetic on the Indonesian calendar in one time zone.

    Holidays are computed per year on first use and cached; the object is otherwise immutable.
    """

    def __init__(self, overrides: Iterable[DayOverride] = (), tz: ZoneInfo = WITA) -> None:
        self.tz = tz
        self._overrides: dict[date, DayOverride] = {o.day: o for o in overrides}
        self._years: dict[int, dict[date, str]] = {}

    def holidays(self, year: int) -> Mapping[date, str]:
        """Non-working weekdays and weekend holidays of ``year``, with their names."""
        found = self._years.get(year)
        if found is None:
            import holidays as holidays_package  # deferred: it takes ~0.1 s to import

            listed = holidays_package.country_holidays(
                "ID", years=year, categories=("public", "government"), language="id"
            )
            found = {day: str(name) for day, name in listed.items()}
            for override in self._overrides.values():
                if override.day.year != year:
                    continue
                if override.working:
                    found.pop(override.day, None)
                else:
                    found[override.day] = override.name
            self._years[year] = found
        return found

    def holiday_name(self, day: date) -> str | None:
        return self.holidays(day.year).get(day)

    def holidays_between(self, start: date, end: date) -> list[tuple[date, str]]:
        """The named days off in [start, end], in date order: what moves a reminder or a
        due date, for the people who ask why."""
        return sorted(
            (day, name)
            for year in range(start.year, end.year + 1)
            for day, name in self.holidays(year).items()
            if start <= day <= end
        )

    def is_working_day(self, day: date) -> bool:
        override = self._overrides.get(day)
        if override is not None and override.working:
            return True
        return day.weekday() < 5 and day not in self.holidays(day.year)

    def previous_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the closest one before it."""
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def next_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the closest one after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def apply_policy(self, day: date, policy: HolidayPolicy) -> date:
        if policy is HolidayPolicy.PREVIOUS_WORKING_DAY:
            return self.previous_working_day(day)
        if policy is HolidayPolicy.NEXT_WORKING_DAY:
            return self.next_working_day(day)
        return day

    def working_day_offset(self, due: date, offset: int) -> date:
        """The day ``offset`` working days from ``due``: H-n, H, H+n of a reminder ladder.

        H is the last working day on or before ``due``; H-n counts back from there, so a
        reminder moves earlier, never later, off a holiday.  H+n counts working days after
        ``due``.
        """
        step = 1 if offset > 0 else -1
        day = due if offset > 0 else self.previous_working_day(due)
        for _ in range(abs(offset)):
            day += timedelta(days=step)
            while not self.is_working_day(day):
                day += timedelta(days=step)
        return day

    def deadline(self, due: date) -> datetime:
        """The instant a due day ends: midnight after it, local time (exclusive bound)."""
        return datetime.combine(due + timedelta(days=1), time(0), tzinfo=self.tz)

    def at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.tz)

    def sending_window(self, now: datetime, window: SendingWindow) -> datetime:
        """The first instant at or after ``now`` when messages may go out: ``now`` itself
        inside the window, else the window's next opening (the next working day's when
        ``window.working_days_only``).  A message outside the window waits; it is never
        dropped."""
        local = now.astimezone(self.tz)
        day = local.date()
        if window.start <= local.time() < window.end and self._sends_on(day, window):
            return now
        if local.time() >= window.end or not self._sends_on(day, window):
            day += timedelta(days=1)
        elif local.time() < window.start:
            return self.at(day, window.start)
        while not self._sends_on(day, window):
            day += timedelta(days=1)
        return self.at(day, window.start)

    def _sends_on(self, day: date, window: SendingWindow) -> bool:
        return self.is_working_day(day) or not window.working_days_only

    def warnings(self, year: int) -> list[CalendarWarning]:
        """What the holiday data for ``year`` cannot vouch for; worded by the caller, in the
        reader's language."""
        names = self.holidays(year).values()
        notes = []
        if not any("cuti bersama" in name.lower() for name in names):
            notes.append(CalendarWarning.NO_CUTI_BERSAMA)
        if any("perkiraan" in name for name in names):
            notes.append(CalendarWarning.ESTIMATES)
        return notes
