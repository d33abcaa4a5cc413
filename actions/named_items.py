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

from actions.say import SPECIFIC_MATCH, offer_found_articles
from actions.base import Events, KnowledgeAction, ask_feedback, latest_entity, no_question
from actions.context import conversation_context
from actions.french_text import find_mention
from actions.kb_repository import KnowledgeBase
from actions.resolve import resolve


class NamedItemAction(KnowledgeAction):
    """Subclasses set `intent` and `entity` (the buttons send `/intent{"entity":"slug"}`)."""

    answers_questions = True

    intent: str
    entity: str
    # Questions this one may follow up: "et pour un enfant ?" after visiting hours in intensive care.
    follows: frozenset[str] = frozenset()

    @abstractmethod
    def items(self, kb: KnowledgeBase) -> Sequence[Any]:
        """All the items (with `slug`, `name`, `synonyms`)."""

    @abstractmethod
    def describe(self, item: Any, day: str | None = None) -> str:
        """The answer about one item (on the `day` entity's day, when one is given)."""

    def describe_in(self, item: Any, message: str, day: str | None) -> str:
        """The answer about one item when the message names several."""
        return self.describe(item, day)

    @abstractmethod
    def general(self, items: Sequence[Any]) -> tuple[str, list[Any]]:
        """The answer when no item is named, and the items to offer as buttons."""

    @abstractmethod
    def button_title(self, item: Any) -> str:
        """The label of an item's button."""

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        message = tracker.latest_message.get("text") or ""
        value, day = latest_entity(tracker, self.entity), latest_entity(tracker, "day")
        if value is None:
            context = conversation_context(tracker)
            if context.question in self.follows:
                # The same item as the previous question; its day too, unless a new one is given.
                value = context.details.get(self.entity)
                day = day or context.details.get("day")
            elif not resolve(self.items(kb), None, message):
                # "et c'est ouvert jusqu'à quelle heure ?" after a question that named a place.
                value = context.details.get(self.entity)
        return self.answer_about(dispatcher, kb, value, message, day)

    def answer_about(self, dispatcher: CollectingDispatcher, kb: KnowledgeBase, value: str | None, message: str, day: str | None) -> Events:
        """The answer for the item `value` names (or the message names); also used by follow-ups."""
        items = self.items(kb)
        named = [i for i in items if find_mention(message, {i.slug: (i.name, *i.synonyms)})]
        if len(named) > 1:  # "le labo et la cafétéria ouvrent à quelle heure ?"
            dispatcher.utter_message(text="\n".join(self.describe_in(i, message, day) for i in named))
            return ask_feedback(dispatcher)
        item = resolve(items, value, message)
        if item is not None:
            dispatcher.utter_message(text=self.describe(item, day))
            return ask_feedback(dispatcher)
        text, choices = self.general(items)
        dispatcher.utter_message(
            text=text,
            buttons=[
                {"title": self.button_title(c), "payload": f'/{self.intent}{{"{self.entity}":"{c.slug}"}}'} for c in choices
            ],
        )
        offer_found_articles(dispatcher, kb, message, "Votre question porte peut-être sur :", min_matched=SPECIFIC_MATCH)
        return no_question()
