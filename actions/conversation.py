"""The greeting: the hospital's name comes from the knowledge base; a known caller hears about his last contact."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import contacts
from actions.base import Events, KnowledgeAction, no_question
from actions.kb_repository import KnowledgeBase
from core.settings import get_settings


class ActionGreet(KnowledgeAction):
    """Needs intent `greet` and response `utter_suggestions`."""

    def name(self) -> str:
        return "action_greet"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        organisation = kb.organisation()
        settings = get_settings()
        earlier = contacts.previous_safely(tracker) if settings.contact_history_greeting else []
        recalled = f" {contacts.recall(earlier[0], settings.now())}" if earlier else ""
        dispatcher.utter_message(
            text=f"Bonjour, je suis l'assistant virtuel du {organisation.name}.{recalled} Comment puis-je vous aider ?"
        )
        dispatcher.utter_message(response="utter_suggestions")
        return no_question()
