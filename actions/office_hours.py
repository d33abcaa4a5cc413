"""When a place of the hospital is open: now, on a given day, and when it opens next.

Hours are the knowledge base's (weekday 0 = Monday, opens, closes); the time
is the hospital's local time from the settings.
"""

from __future__ import annotations

import datetime as dt

from actions.french_text import WEEKDAYS, format_date, format_time
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
