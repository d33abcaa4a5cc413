"""Opening hours of the hospital's places (reception, laboratory, emergency department…), on a day or all week."""

from __future__ import annotations

from accueil.settings import get_settings
from actions.french_text import WEEKDAYS, capitalize_first, describe_week, join_words, time_range
from actions.kb_repository import KnowledgeBase, PlaceInfo
from actions.named_items import NamedItemAction
from actions.office_hours import days_meant
from actions.resolve import resolve

DEFAULT_PLACE = "accueil"


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


class ActionOpeningHours(NamedItemAction):
    """Needs intent `ask_opening_hours`, entities `place` and `day` (both optional)."""

    intent = "ask_opening_hours"
    entity = "place"
    follows = frozenset({"ask_opening_hours"})

    def name(self) -> str:
        return "action_opening_hours"

    def items(self, kb: KnowledgeBase) -> list[PlaceInfo]:
        return kb.places()

    def describe(self, item: PlaceInfo, day: str | None = None) -> str:
        days = days_meant(day, get_settings().now())
        return describe_place_on(item, days) if days else describe_place_hours(item)

    def general(self, items: list[PlaceInfo]) -> tuple[str, list[PlaceInfo]]:
        # The main reception and the emergency department, then a choice of the others.
        shown = [p for p in items if p.slug == DEFAULT_PLACE] + [p for p in items if p.always_open and not p.phone]
        lines = [describe_place_hours(p) for p in shown] + ["Pour un autre lieu, lequel ?"]
        return "\n".join(lines), [p for p in items if p not in shown]

    def button_title(self, item: PlaceInfo) -> str:
        return capitalize_first(item.name.split(" (")[0])


def named_place_hours(kb: KnowledgeBase, place_value: str | None) -> str | None:
    """The opening hours of the place an entity names, to add to an answer about something else."""
    if not place_value:
        return None
    place = resolve(kb.places(), place_value, None)
    return describe_place_hours(place) if place else None
