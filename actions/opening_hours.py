"""Opening hours of the hospital's places (reception, laboratory, emergency department…), on a day or all week;
and, when the question names a time ("le labo est ouvert à 14h ?"), yes or no for that time."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.base import Events, ask_feedback
from actions.describe import describe_place_hours, describe_place_on
from actions.french_text import capitalize_first
from actions.kb_repository import KnowledgeBase, PlaceInfo
from actions.named_items import NamedItemAction
from actions.office_hours import days_meant
from actions.opening_at_time import time_verdict
from actions.resolve import resolve
from actions.time_expressions import day_named, time_asked
from core.settings import get_settings

DEFAULT_PLACE = "accueil"


class ActionOpeningHours(NamedItemAction):
    """Needs intent `ask_opening_hours`, entities `place` and `day` (both optional)."""

    intent = "ask_opening_hours"
    entity = "place"
    follows = frozenset({"ask_opening_hours"})

    def name(self) -> str:
        return "action_opening_hours"

    def items(self, kb: KnowledgeBase) -> list[PlaceInfo]:
        return kb.places()

    def answer_about(self, dispatcher: CollectingDispatcher, kb: KnowledgeBase, value: str | None, message: str, day: str | None) -> Events:
        """A time in the question ("encore ouvert à 14h ?") gets yes or no for that time; otherwise the hours."""
        asked = time_asked(message, get_settings().now())
        place = resolve(self.items(kb), value, message) if asked else None
        if asked is None or place is None:
            return super().answer_about(dispatcher, kb, value, message, day)
        dispatcher.utter_message(text=time_verdict(place, asked, day or day_named(message), get_settings().now()))
        return ask_feedback(dispatcher)

    def describe_in(self, item: PlaceInfo, message: str, day: str | None) -> str:
        asked = time_asked(message, get_settings().now())
        return time_verdict(item, asked, day or day_named(message), get_settings().now()) if asked else self.describe(item, day)

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
