"""Base class of the actions that answer from the knowledge base.

It needs nothing from the domain but the response `utter_kb_unavailable`.
It runs the blocking database reads in a worker thread and turns any
failure into a polite French answer. (Vital emergencies never reach these
actions: `bot.vital_emergency` reroutes them in the NLU.)
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABCMeta, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from accueil.metrics import count_error
from actions import contacts
from actions.channel import for_voice, is_voice
from actions.french_text import format_date
from actions.kb_repository import ArticleInfo, KnowledgeBase, get_knowledge_base

log = logging.getLogger(__name__)

Events = list[dict[str, Any]]


class KnowledgeAction(Action, metaclass=ABCMeta):
    """Answers from the knowledge base; subclasses implement `answer` (blocking, in a thread)."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> Events:
        try:
            events = await asyncio.to_thread(self._answer_and_remember, dispatcher, tracker)
        except Exception:
            log.exception("Action %s failed", self.name())
            count_error("actions")
            dispatcher.messages.clear()  # no half answer before the apology
            dispatcher.utter_message(response="utter_kb_unavailable")
            return []
        if is_voice(tracker):
            dispatcher.messages[:] = for_voice(dispatcher.messages)
        return events

    def _answer_and_remember(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        events = self.answer(dispatcher, tracker, get_knowledge_base())
        contacts.remember_safely(tracker)  # an identified person's contact history gets this question
        return events

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    @abstractmethod
    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        """Write the answer with `dispatcher`; return the events to apply."""


def ask_feedback(dispatcher: CollectingDispatcher) -> Events:
    """Ends a complete answer: "Cette réponse vous a-t-elle aidé ?" (the yes/no is stored)."""
    dispatcher.utter_message(response="utter_ask_feedback")
    return [SlotSet("pending_question", "feedback")]


def no_question() -> Events:
    """The answer asks nothing: a later yes or no is not an answer to an old question."""
    return [SlotSet("pending_question", None)]


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    """The value of `entity` in the patient's latest message, if the NLU found one."""
    return next(tracker.get_latest_entity_values(entity), None)


def with_update_date(text: str, article: ArticleInfo) -> str:
    """Adds the date of the information when the editor asked for it in the article."""
    if article.show_updated_at:
        return f"{text}\n\nInformation mise à jour le {format_date(article.updated_at)}."
    return text
