"""Base of the actions about one named item of the knowledge base (a place, a ward).

The patient names the item (NLU entity, or words the knowledge base knows):
its answer. Names none: a general answer, buttons for the others, and the
articles that clearly match the question, in case it was about something else.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Sequence

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.articles import SPECIFIC_MATCH, offer_found_articles
from actions.base import Events, KnowledgeAction, latest_entity
from actions.kb_repository import KnowledgeBase
from actions.resolve import resolve


class NamedItemAction(KnowledgeAction):
    """Subclasses set `intent` and `entity` (the buttons send `/intent{"entity":"slug"}`)."""

    intent: str
    entity: str

    @abstractmethod
    def items(self, kb: KnowledgeBase) -> Sequence[Any]:
        """All the items (with `slug`, `name`, `synonyms`)."""

    @abstractmethod
    def describe(self, item: Any) -> str:
        """The answer about one item."""

    @abstractmethod
    def general(self, items: Sequence[Any]) -> tuple[str, list[Any]]:
        """The answer when no item is named, and the items to offer as buttons."""

    @abstractmethod
    def button_title(self, item: Any) -> str:
        """The label of an item's button."""

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        items = self.items(kb)
        message = tracker.latest_message.get("text") or ""
        item = resolve(items, latest_entity(tracker, self.entity), message)
        if item is not None:
            dispatcher.utter_message(text=self.describe(item))
            return []
        text, choices = self.general(items)
        dispatcher.utter_message(
            text=text,
            buttons=[
                {"title": self.button_title(c), "payload": f'/{self.intent}{{"{self.entity}":"{c.slug}"}}'} for c in choices
            ],
        )
        offer_found_articles(dispatcher, kb, message, "Votre question porte peut-être sur :", min_matched=SPECIFIC_MATCH)
        return []
