"""Document requests, as the Rasa form `document_form`: which document, and for a medical record how old the stay is.

The form asks what is missing; `action_document_answer` then gives the
procedure, the delay and where to send the request, from the editors' articles.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from accueil.settings import get_settings
from actions.articles import say_article
from actions.base import Events, KnowledgeAction, ask_feedback
from actions.call_reasons import DOCUMENTS, RECORD_DELAY_ARTICLES
from actions.kb_repository import KnowledgeBase
from actions.spoken_numbers import stay_age

MEDICAL_RECORD = "dossier_medical"


class ValidateDocumentForm(FormValidationAction):
    """Asks the stay's age only for a medical record; reads it from free text ("il y a dix ans", "en 2012")."""

    def name(self) -> str:
        return "validate_document_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[str]:
        if tracker.get_slot("document_type") == MEDICAL_RECORD:
            return ["document_type", "stay_age"]
        return ["document_type"]

    async def extract_stay_age(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "stay_age":
            return {}
        age = stay_age(tracker.latest_message.get("text") or "", get_settings().now().date())
        return {"stay_age": age} if age else {}

    def validate_document_type(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if value in DOCUMENTS:
            return {"document_type": value}
        dispatcher.utter_message(response="utter_document_unknown")
        return {"document_type": None}

    def validate_stay_age(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if value in RECORD_DELAY_ARTICLES:
            return {"stay_age": value}
        dispatcher.utter_message(response="utter_stay_age_unclear")
        return {"stay_age": None}


class ActionDocumentAnswer(KnowledgeAction):
    """After `document_form`: how to get the document; for a medical record, the delay of the patient's case first."""

    def name(self) -> str:
        return "action_document_answer"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        kind = DOCUMENTS[tracker.get_slot("document_type")]
        if tracker.get_slot("document_type") == MEDICAL_RECORD:
            age = tracker.get_slot("stay_age")
            if age in RECORD_DELAY_ARTICLES and not say_article(dispatcher, kb, RECORD_DELAY_ARTICLES[age], related=False):
                raise LookupError(f"article {RECORD_DELAY_ARTICLES[age]!r} missing")
        if not say_article(dispatcher, kb, kind.article):
            raise LookupError(f"article {kind.article!r} missing")
        if tracker.get_slot("document_type") == MEDICAL_RECORD:
            organisation = kb.organisation()
            dispatcher.utter_message(
                text=f"Adresse pour un courrier : à l'attention de la direction, {organisation.name}, {organisation.address}."
            )
        # The request is answered: a new one starts from scratch.
        return [SlotSet("document_type", None), SlotSet("stay_age", None), *ask_feedback(dispatcher)]
