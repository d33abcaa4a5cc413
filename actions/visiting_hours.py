"""Visiting hours and rules of the wards (general wards, intensive care, maternity, paediatrics).

Children and the number of visitors get the named ward's rules; with no ward
named, children get the editors' article and the number the general rules.
"""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.base import Events, ask_feedback
from actions.describe import describe_ward_visits, visits_at
from actions.french_text import capitalize_first, find_mention, join_words
from actions.kb_repository import KnowledgeBase, WardInfo
from actions.named_items import NamedItemAction
from actions.office_hours import days_meant
from actions.opening_hours import ActionOpeningHours
from actions.resolve import resolve
from actions.say import say_article
from actions.time_expressions import day_named, time_asked
from core.catalogue import CALL_REASONS
from core.settings import get_settings


class ActionVisitingHours(NamedItemAction):
    """Needs intent `ask_visiting_hours` and entity `ward` (optional)."""

    intent = "ask_visiting_hours"
    entity = "ward"
    follows = frozenset({"ask_visiting_hours", "ask_visit_children", "ask_visit_flowers", "ask_visit_number"})

    def name(self) -> str:
        return "action_visiting_hours"

    def items(self, kb: KnowledgeBase) -> list[WardInfo]:
        return kb.wards()

    def answer_about(self, dispatcher: CollectingDispatcher, kb: KnowledgeBase, value: str | None, message: str, day: str | None) -> Events:
        """A time in the question ("je peux venir à 11h ?") gets yes or no for each visitor of the ward."""
        asked = time_asked(message, get_settings().now())
        ward = resolve(self.items(kb), value, message) if asked else None
        place = find_mention(message, {p.slug: (p.name, *p.synonyms) for p in kb.places()}) if asked and ward is None else None
        if place:  # "mon IRM, je pourrais la faire vers 18h30 ?": a place's hours, not a ward's visits
            return ActionOpeningHours().answer_about(dispatcher, kb, place, message, day)
        if asked is None or ward is None:
            return super().answer_about(dispatcher, kb, value, message, day)
        dispatcher.utter_message(text=visits_at(ward, asked, (days_meant(day or day_named(message), get_settings().now()) or [get_settings().now().weekday()])[0]))
        return ask_feedback(dispatcher)

    def describe(self, item: WardInfo, day: str | None = None) -> str:
        return describe_ward_visits(item)

    def general(self, items: list[WardInfo]) -> tuple[str, list[WardInfo]]:
        default = next(w for w in items if w.is_default)
        others = [w for w in items if not w.is_default]
        names = join_words(f"en {w.name}" for w in others)
        return f"{describe_ward_visits(default)}\nLes règles sont différentes {names} : quel service vous intéresse ?", others

    def button_title(self, item: WardInfo) -> str:
        return capitalize_first(item.name)


class ActionVisitNumber(ActionVisitingHours):
    """Needs intent `ask_visit_number` and entity `ward` (optional)."""

    intent = "ask_visit_number"

    def name(self) -> str:
        return "action_visit_number"


class ActionVisitChildren(ActionVisitingHours):
    """Needs intent `ask_visit_children` and entity `ward` (optional).

    A ward with an age limit: its rules; any other ward, or none: the editors' article on children.
    """

    intent = "ask_visit_children"

    def name(self) -> str:
        return "action_visit_children"

    def answer_about(self, dispatcher: CollectingDispatcher, kb: KnowledgeBase, value: str | None, message: str, day: str | None) -> Events:
        ward = resolve(self.items(kb), value, message)
        if ward is not None and any(rule.min_age for rule in ward.rules):
            return super().answer_about(dispatcher, kb, value, message, day)
        if not say_article(dispatcher, kb, CALL_REASONS[self.intent].article):
            raise LookupError("children visiting article missing")
        return ask_feedback(dispatcher)
