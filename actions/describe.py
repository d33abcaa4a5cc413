"""How facts of the knowledge base are said in French: a place's hours, a ward's visiting rules, where to write for a medical record."""

from __future__ import annotations

from actions.french_text import WEEKDAYS, capitalize_first, describe_week, join_words, time_range
from actions.kb_repository import OrganisationInfo, PlaceInfo, VisitingRuleInfo, WardInfo
from actions.office_hours import ALL_DAY, open_at
from actions.time_expressions import TimeAsked


def describe_place_hours(place: PlaceInfo) -> str:
    where = f" ({place.location})" if place.location else ""
    name = capitalize_first(place.name) + where
    if place.always_open:
        text = f"{name} : ouvert 24h/24, 7 jours sur 7."
    else:
        text = f"{name} : ouvert {describe_week(place.hours)}."
    if place.note and place.note not in text:
        text = f"{text[:-1]}, {place.note}."
    if place.phone:
        text += f" Téléphone : {place.phone}."
    return text


def describe_place_on(place: PlaceInfo, days: list[int]) -> str:
    """'Le samedi, laboratoire… : ouvert de 7h30 à 12h.' for each day asked, then the whole week."""
    if place.always_open:
        return describe_place_hours(place)
    lines = []
    for day in days:
        periods = [time_range(opens, closes) for d, opens, closes in place.hours if d == day]
        state = f"ouvert {join_words(periods)}" if periods else "fermé"
        lines.append(f"Le {WEEKDAYS[day]}, {place.name} : {state}.")
    return "\n".join(lines + [f"Toute la semaine : {describe_place_hours(place)}"])


def describe_rule(rule: VisitingRuleInfo) -> str:
    when = "24h/24" if rule.all_day else f"tous les jours {time_range(rule.opens, rule.closes)}"
    details = []
    if rule.max_visitors:
        details.append(f"{rule.max_visitors} visiteurs au maximum à la fois")
    if rule.min_age:
        details.append(f"pas d'enfants de moins de {rule.min_age} ans")
    return f"{rule.audience} : {when}" + "".join(f", {d}" for d in details)


def describe_ward_visits(ward: WardInfo) -> str:
    intro = f"Visites en {ward.name}" if not ward.is_default else f"Visites dans les {ward.name}"
    if len(ward.rules) == 1:
        text = f"{intro} — {describe_rule(ward.rules[0])}."
    else:
        text = f"{intro} :\n" + "\n".join(f"- {capitalize_first(describe_rule(r))}" for r in ward.rules)
    if ward.note:
        text += f"\n{ward.note}"
    return text


def visits_at(ward: WardInfo, asked: TimeAsked, weekday: int) -> str:
    """Yes or no for each of the ward's visitors at the time asked: "À 11h en maternité : les visiteurs, non (…)"."""
    lines = []
    for rule in ward.rules:
        hours = ALL_DAY if rule.all_day else tuple((day, rule.opens, rule.closes) for day in range(7))
        verdict = open_at(hours, weekday, asked.value)
        when = "24h/24" if rule.all_day else time_range(rule.opens, rule.closes)
        answer = "oui" if verdict.whole else ("en partie" if verdict.open else "non")
        lines.append(f"- {capitalize_first(rule.audience)} : {answer} ({when})")
    where = f"en {ward.name}" if not ward.is_default else f"dans les {ward.name}"
    intro = f"{capitalize_first(asked.words)}, {where}, les visites sont possibles pour :" if asked.words else f"Visites {where} :"
    extra = [ward.note] if ward.note else []
    return "\n".join([intro, *lines, *extra])


def record_address(organisation: OrganisationInfo) -> str:
    """Where a request for a medical record copy is posted."""
    return f"Adresse pour un courrier : à l'attention de la direction, {organisation.name}, {organisation.address}."
