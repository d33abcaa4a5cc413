"""When a place of the hospital is open: now, on a given day, and when it opens next.

Hours are the knowledge base's (weekday 0 = Monday, opens, closes); the time
is the hospital's local time from the settings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from actions.french_text import END_OF_DAY, WEEKDAYS, format_date, format_time
from actions.kb_repository import PlaceInfo

DAY_VALUES = {name: index for index, name in enumerate(WEEKDAYS)}


def is_open(place: PlaceInfo, at: dt.datetime) -> bool:
    if place.always_open:
        return True
    return any(day == at.weekday() and opens <= at.time() < closes for day, opens, closes in place.hours)


def closing_time(place: PlaceInfo, at: dt.datetime) -> dt.time | None:
    """When the current opening period ends (None when always open or closed)."""
    for day, opens, closes in place.hours:
        if day == at.weekday() and opens <= at.time() < closes:
            return closes
    return None


def next_opening(place: PlaceInfo, after: dt.datetime) -> dt.datetime | None:
    """The start of the next opening period strictly after `after` (None if the place never opens)."""
    if place.always_open:
        return after
    for offset in range(8):
        date = after.date() + dt.timedelta(days=offset)
        starts = sorted(opens for day, opens, _ in place.hours if day == date.weekday())
        for opens in starts:
            moment = dt.datetime.combine(date, opens)
            if moment > after:
                return moment
    return None


def say_moment(moment: dt.datetime, now: dt.datetime) -> str:
    """'aujourd'hui à 14h', 'demain à 7h30', 'lundi 30 novembre 2026 à 9h'."""
    days = (moment.date() - now.date()).days
    if days == 0:
        when = "aujourd'hui"
    elif days == 1:
        when = "demain"
    else:
        when = f"{WEEKDAYS[moment.weekday()]} {format_date(moment.date())}"
    return f"{when} à {format_time(moment.time())}"


def days_meant(day_value: str | None, now: dt.datetime) -> list[int]:
    """The weekdays a `day` entity value means ('demain' is relative to now; 'weekend' is two days)."""
    if not day_value:
        return []
    if day_value in DAY_VALUES:
        return [DAY_VALUES[day_value]]
    if day_value == "aujourdhui":
        return [now.weekday()]
    if day_value == "demain":
        return [(now.weekday() + 1) % 7]
    if day_value == "weekend":
        return [5, 6]
    return []


# ------------------------------------------------------------------ open at a time asked
Hours = Iterable[tuple[int, dt.time, dt.time]]
ALL_DAY = tuple((day, dt.time(0), END_OF_DAY) for day in range(7))


@dataclass(frozen=True)
class Verdict:
    """Whether hours cover a moment or a span of one day.

    `open`: at the moment, or at some time of the span; `whole`: all along the span (for a moment, as `open`);
    `periods`: that day's opening periods; `meeting`: those that meet the moment or span.
    """

    open: bool
    whole: bool
    periods: tuple[tuple[dt.time, dt.time], ...]
    meeting: tuple[tuple[dt.time, dt.time], ...]

    @property
    def closed_all_day(self) -> bool:
        return not self.periods

    @property
    def until(self) -> dt.time | None:
        """When the (last) period that meets the time asked ends."""
        return self.meeting[-1][1] if self.meeting else None


def hours_of(place: PlaceInfo) -> tuple[tuple[int, dt.time, dt.time], ...]:
    """The place's periods, always-open places as every day from midnight to midnight."""
    return ALL_DAY if place.always_open else tuple(place.hours)


def _ends(closes: dt.time) -> dt.time:
    return dt.time.max if closes == END_OF_DAY else closes


def open_at(hours: Hours, day: int, time: dt.time | tuple[dt.time, dt.time]) -> Verdict:
    """Whether `hours` ((weekday, opens, closes): a place's, or a visiting rule's) are open on weekday `day`
    at `time`, a moment, or all along or during part of a (start, end) span."""
    periods = tuple(sorted((opens, closes) for weekday, opens, closes in hours if weekday == day))
    if isinstance(time, tuple):
        start, end = time
        meeting = tuple((o, c) for o, c in periods if o < end and _ends(c) > start)
        whole = any(o <= start and _ends(c) >= end for o, c in meeting)
    else:
        meeting = tuple((o, c) for o, c in periods if o <= time < _ends(c))
        whole = bool(meeting)
    return Verdict(bool(meeting), whole, periods, meeting)
