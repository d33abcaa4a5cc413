"""Opening hours of the hospital's places (reception, laboratory, emergency department…)."""

from __future__ import annotations

from actions.french_text import capitalize_first, describe_week
from actions.kb_repository import KnowledgeBase, PlaceInfo
from actions.named_items import NamedItemAction

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


class ActionOpeningHours(NamedItemAction):
    """Needs intent `ask_opening_hours` and entity `place` (optional)."""

    intent = "ask_opening_hours"
    entity = "place"

    def name(self) -> str:
        return "action_opening_hours"

    def items(self, kb: KnowledgeBase) -> list[PlaceInfo]:
        return kb.places()

    def describe(self, item: PlaceInfo) -> str:
        return describe_place_hours(item)

    def general(self, items: list[PlaceInfo]) -> tuple[str, list[PlaceInfo]]:
        # The main reception and the emergency department, then a choice of the others.
        shown = [p for p in items if p.slug == DEFAULT_PLACE] + [p for p in items if p.always_open and not p.phone]
        lines = [describe_place_hours(p) for p in shown] + ["Pour un autre lieu, lequel ?"]
        return "\n".join(lines), [p for p in items if p not in shown]

    def button_title(self, item: PlaceInfo) -> str:
        return capitalize_first(item.name.split(" (")[0])
