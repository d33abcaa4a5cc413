"""Yes or no: is a place open at the time a question asks ("le labo est ouvert à 14h ?", "samedi matin ?");
and what to add about a place named in a question on another subject (its hours, or that yes or no)."""

from __future__ import annotations

import datetime as dt

from core.settings import get_settings
from actions.describe import describe_place_hours
from actions.french_text import WEEKDAYS, NounPhrase, capitalize_first, describe_week, format_time, join_words, noun_phrase, time_range
from actions.kb_repository import KnowledgeBase, PlaceInfo
from actions.office_hours import days_meant, hours_of, next_opening, open_at, say_moment
from actions.resolve import resolve
from actions.time_expressions import TimeAsked, day_named, time_asked


def _dates_meant(day_value: str | None, now: dt.datetime) -> list[dt.date]:
    """The dates a `day` entity value means from now (the next such weekday), today when none."""
    weekdays = days_meant(day_value, now) or [now.weekday()]
    return [now.date() + dt.timedelta(days=(weekday - now.weekday()) % 7) for weekday in weekdays]


# "samedi matin", not "samedi le matin".
AFTER_A_DAY = {"le matin": "matin", "l'après-midi": "après-midi", "le soir": "soir"}


def _day_word(date: dt.date, now: dt.datetime) -> str:
    """'' (today), 'demain', 'samedi'."""
    days = (date - now.date()).days
    return "" if days == 0 else "demain" if days == 1 else WEEKDAYS[date.weekday()]


def _when(date: dt.date, asked: TimeAsked, now: dt.datetime) -> str:
    """'à 14h', 'samedi à 10h', 'demain en fin d'après-midi', 'samedi matin'."""
    day = _day_word(date, now)
    if not day:
        return asked.words
    if asked.words in AFTER_A_DAY:
        return f"{day} {AFTER_A_DAY[asked.words]}"
    if asked.words == "la nuit":
        return "demain dans la nuit" if day == "demain" else f"dans la nuit de {day}"
    return f"{day} {asked.words}"


def _reopening(place: PlaceInfo, subject: NounPhrase, moment: dt.datetime, now: dt.datetime) -> str:
    """'Il ouvre à 7h30.' (later that day), 'Il rouvre demain à 7h30.'"""
    opening = next_opening(place, moment)
    if opening is None:
        return ""
    pronoun = capitalize_first(subject.pronoun)
    if opening.date() == moment.date():
        return f" {pronoun} {subject.verb('ouvre', 'ouvrent')} à {format_time(opening.time())}."
    return f" {pronoun} {subject.verb('rouvre', 'rouvrent')} {say_moment(opening, now)}."


def _verdict_on(place: PlaceInfo, asked: TimeAsked, date: dt.date, now: dt.datetime) -> str:
    subject = noun_phrase(place.name)
    be, opened, closed = subject.verb("est", "sont"), subject.agree("ouvert"), subject.agree("fermé")
    when = _when(date, asked, now)
    verdict = open_at(hours_of(place), date.weekday(), asked.value)
    week = f"{subject.pronoun} {be} {opened} {describe_week(place.hours)}."
    if verdict.closed_all_day:
        day = _day_word(date, now) or "aujourd'hui"
        reopening = _reopening(place, subject, dt.datetime.combine(date, dt.time(0)), now)
        return f"Non, {day} {subject.text} {be} {closed} toute la journée : {week}{reopening}"
    if asked.end is None and not verdict.open and any(closes == asked.start for _, closes in verdict.periods):
        periods = join_words(time_range(o, c) for o, c in verdict.periods)
        return capitalize_first(f"{when} {subject.text} {subject.verb('ferme', 'ferment')} : {subject.pronoun} {be} {opened} {periods}.")
    if not verdict.open:
        reopening = _reopening(place, subject, dt.datetime.combine(date, asked.start), now)
        return f"Non, {when} {subject.text} {be} {closed} : {week}{reopening}"
    if asked.end is None:
        period = next((o, c) for o, c in verdict.meeting if c == verdict.until)
        return f"Oui, {when} {subject.text} {be} {opened} ({time_range(*period)})."
    return f"Oui, {when} {subject.text} {be} {opened} {join_words(time_range(o, c) for o, c in verdict.meeting)}."


def time_verdict(place: PlaceInfo, asked: TimeAsked, day_value: str | None, now: dt.datetime) -> str:
    """Yes or no: is the place open at the time asked, on the day the `day` entity names (today when none)?

    « Non, à 14h le laboratoire d'analyses est fermé : il est ouvert du lundi au samedi de 7h30 à 12h.
    Il rouvre demain à 7h30. » — « Oui, à 17h le bureau des admissions est ouvert (de 7h30 à 18h). »
    """
    dates = _dates_meant(day_value, now)
    if place.always_open:  # the same answer every day
        subject, when = noun_phrase(place.name), _when(dates[0], asked, now) if len(dates) == 1 else asked.words
        return f"Oui, {when} {subject.text} {subject.verb('est', 'sont')} {subject.agree('ouvert')} : 24h/24, 7 jours sur 7."
    return "\n".join(_verdict_on(place, asked, date, now) for date in dates)


def named_place_addendum(kb: KnowledgeBase, place_value: str | None, message: str, day_value: str | None) -> str | None:
    """What to add to an answer about something else when the question names a place: yes or no for the time
    it asks about ("je peux payer à la caisse en fin d'après-midi ?"), else the place's hours."""
    if not place_value:
        return None
    place = resolve(kb.places(), place_value, None)
    if place is None:
        return None
    asked = time_asked(message, get_settings().now())
    if asked is None:
        return f"Horaires : {describe_place_hours(place)}"
    return time_verdict(place, asked, day_value or day_named(message), get_settings().now())
