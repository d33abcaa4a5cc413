"""What the assistant says when it did not understand: suggestions and a human to call."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.base import Events, KnowledgeAction
from actions.kb_repository import KnowledgeBase


class ActionFallbackSuggestions(KnowledgeAction):
    """Runs on `nlu_fallback` and as the core fallback; needs response `utter_suggestions`."""

    def name(self) -> str:
        return "action_fallback_suggestions"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        organisation = kb.organisation()
        dispatcher.utter_message(
            text=(
                "Je suis désolé, je n'ai pas bien compris votre question. "
                f"Vous pouvez la reformuler, choisir un sujet ci-dessous, ou parler à un conseiller "
                f"en appelant le standard au {organisation.switchboard_phone} ({organisation.switchboard_hours})."
            )
        )
        dispatcher.utter_message(response="utter_suggestions")
        # The misunderstood message must not steer the rest of the dialogue.
        return [UserUtteranceReverted()]
