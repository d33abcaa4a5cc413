"""When no intent has a specific answer: articles found by search, suggestions, and a human to call."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.articles import offer_found_articles
from actions.base import Events, KnowledgeAction, latest_entity, no_question
from actions.channel import is_voice
from actions.kb_repository import KnowledgeBase
from actions.opening_hours import named_place_hours


class ActionFallbackSuggestions(KnowledgeAction):
    """Runs on `nlu_fallback` and as the core fallback; needs response `utter_suggestions`."""

    def name(self) -> str:
        return "action_fallback_suggestions"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        organisation = kb.organisation()
        question = tracker.latest_message.get("text") or ""
        if is_voice(tracker):  # the caller is already on the phone: no buttons, no number to dial
            human = "demander un conseiller, ou appuyer sur la touche zéro"
            topics = ""
        else:
            human = f"parler à un conseiller en appelant le standard au {organisation.switchboard_phone} ({organisation.switchboard_hours})"
            topics = " choisir un sujet ci-dessous,"
        hours = named_place_hours(kb, latest_entity(tracker, "place"))
        if hours:
            dispatcher.utter_message(text=f"Si vous cherchez des horaires : {hours}")
        if offer_found_articles(dispatcher, kb, question, "Je ne suis pas sûr d'avoir bien compris. Ces fiches peuvent peut-être vous aider :"):
            dispatcher.utter_message(text=f"Sinon, vous pouvez reformuler votre question ou {human}.")
        else:
            dispatcher.utter_message(
                text=f"Je suis désolé, je n'ai pas bien compris votre question. Vous pouvez la reformuler,{topics} ou {human}."
            )
            dispatcher.utter_message(response="utter_suggestions")
        # The misunderstood message must not steer the rest of the dialogue.
        return [UserUtteranceReverted()]


class ActionOutOfScope(KnowledgeAction):
    """Needs intent `out_of_scope` and responses `utter_out_of_scope`, `utter_suggestions`."""

    def name(self) -> str:
        return "action_out_of_scope"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        dispatcher.utter_message(response="utter_out_of_scope")
        question = tracker.latest_message.get("text") or ""
        if not offer_found_articles(dispatcher, kb, question, "Si votre question concerne l'hôpital, ces fiches peuvent peut-être vous aider :"):
            dispatcher.utter_message(response="utter_suggestions")
        return no_question()
