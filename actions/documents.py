"""Document requests, as the Rasa form `document_form`: which document, then its procedure and delay.

The form asks only what it cannot find: the document, when neither the intent,
the NLU entity nor the words of the message name one. A document named in the
patient's own words ("le compte rendu de mon séjour", "une attestation de
présence") is matched against the editors' articles (titles and keywords), so
an editor adds a word without retraining. For a medical record, the age of the
stay is read from every message of the request ("en 2013", "cet été"): known,
its delay comes first; unknown, both delays are given and the patient may say
more, never has to.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import Events, KnowledgeAction, ask_feedback
from actions.call_reasons import DOCUMENT_INTENTS, DOCUMENTS, RECORD_DELAY_ARTICLES
from actions.describe import record_address
from actions.document_names import documents_named
from actions.french_text import fold
from actions.kb_repository import KnowledgeBase, get_knowledge_base
from actions.say import say_article
from actions.time_expressions import stay_age
from actions.topic import MEDICAL_RECORD
from core.settings import get_settings

FEMININE = {"copie", "facture"}
def request_texts(tracker: Tracker) -> list[str]:
    """What the patient said since he asked for the document (that message included)."""
    users = [e for e in tracker.applied_events() if e.get("event") == "user"]
    start = 0
    for index, event in enumerate(users):
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent in DOCUMENT_INTENTS or intent == "request_document":
            start = index
    return [e.get("text") or "" for e in users[start:]] or [tracker.latest_message.get("text") or ""]


def stay_age_said(tracker: Tracker, today: dt.date) -> str | None:
    """'recent' or 'old' from the buttons, or from the latest of the request's messages that dates the stay."""
    if tracker.get_slot("stay_age") in RECORD_DELAY_ARTICLES:
        return tracker.get_slot("stay_age")
    for text in reversed(request_texts(tracker)):
        age = stay_age(text, today)
        if age:
            return age
    return None


def choice_buttons(keys: list[str]) -> list[dict]:
    return [{"title": DOCUMENTS[k].label.capitalize(), "payload": f'/inform{{"document_type":"{k}"}}'} for k in keys]


class ValidateDocumentForm(FormValidationAction):
    """Fills `document_type` from the intent, the entity, or the words of the request; asks between close ones."""

    def name(self) -> str:
        return "validate_document_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[str]:
        return ["document_type"]

    async def extract_document_type(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("document_type") in DOCUMENTS:
            return {}
        text = tracker.latest_message.get("text") or ""
        named = await _in_thread(documents_named, text)
        return {"document_type": named[0]} if len(named) == 1 else {}

    async def validate_document_type(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if value in DOCUMENTS:
            return {"document_type": value}
        named = await _in_thread(documents_named, str(value or ""))
        if not named:
            named = await _in_thread(documents_named, tracker.latest_message.get("text") or "")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if not named and intent in DOCUMENT_INTENTS:
            named = [DOCUMENT_INTENTS[intent]]
        alternatives = " ou " in fold(str(value or "")) or " ou " in fold(tracker.latest_message.get("text") or "")
        if len(named) == 1 or (named and not alternatives):  # several asked together are answered together
            return {"document_type": named[0]}
        if named:
            choices = " ou ".join(of_document(k) for k in named[:3])
            dispatcher.utter_message(text=f"Parlez-vous {choices} ?", buttons=choice_buttons(named[:3]))
        return {"document_type": None}


def of_document(key: str) -> str:
    """"du bulletin de situation", "de la facture", "des résultats d'examens", "de l'arrêt de travail"."""
    label = DOCUMENTS[key].label
    if label[0] in "aeiouyéèh":
        return f"de l'{label}"
    if label.split()[0].endswith("s"):
        return f"des {label}"
    return f"de la {label}" if label.split()[0] in FEMININE else f"du {label}"


async def _in_thread(function, text: str) -> list[str]:
    return await asyncio.to_thread(lambda: function(text, get_knowledge_base()))


def say_record_delay(dispatcher: CollectingDispatcher, kb: KnowledgeBase, age: str) -> None:
    """The delay of a medical record copy for a stay of that age ('recent' or 'old')."""
    if not say_article(dispatcher, kb, RECORD_DELAY_ARTICLES[age], related=False):
        raise LookupError(f"article {RECORD_DELAY_ARTICLES[age]!r} missing")


class ActionDocumentAnswer(KnowledgeAction):
    """After `document_form`: how to get the document; for a medical record, the delay of the patient's case first."""

    answers_questions = True

    def name(self) -> str:
        return "action_document_answer"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        key = tracker.get_slot("document_type")
        kind = DOCUMENTS[key]
        age = stay_age_said(tracker, get_settings().now().date()) if key == MEDICAL_RECORD else None
        if age:
            say_record_delay(dispatcher, kb, age)
        if not say_article(dispatcher, kb, kind.article):
            raise LookupError(f"article {kind.article!r} missing")
        if key == MEDICAL_RECORD:
            dispatcher.utter_message(text=record_address(kb.organisation()))
            if not age:
                dispatcher.utter_message(response="utter_offer_stay_age")
        for other in documents_named(tracker.latest_message.get("text") or "", kb):
            article = kb.article(DOCUMENTS[other].article) if other != key else None
            if article is not None:  # "mes résultats et le compte rendu de mon séjour"
                dispatcher.utter_message(text=f"Pour votre autre demande ({DOCUMENTS[other].label}) : {article.body}")
        # The request is answered: a new one starts from scratch.
        return [SlotSet("document_type", None), SlotSet("stay_age", None), *ask_feedback(dispatcher)]
