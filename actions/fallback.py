"""When no intent has a specific answer: the NLU's own guess when the message confirms it, or the article a
search finds clearly ahead, else the articles found by search as buttons, suggestions, and a human to call.

A question can fall under the NLU's confidence threshold and still be clear: "Quelle est l'adresse exacte de
l'hôpital, pour mon GPS ?" is guessed `ask_address` at 0.4 and holds "gps", a word of the address article. The
guess is answered when it is confident enough and the message holds words of its topic (`actions.topic`).
"""

from __future__ import annotations

import copy

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.articles import ActionAnswerArticle
from actions.base import Events, KnowledgeAction, ask_feedback, latest_entity, no_question
from actions.call_reasons import ARTICLE_INTENTS, DOCUMENT_INTENTS
from actions.channel import is_voice
from actions.context import ANSWERED_TOPIC
from actions.documents import ActionDocumentAnswer
from actions.kb_repository import KnowledgeBase
from actions.opening_at_time import named_place_addendum
from actions.opening_hours import ActionOpeningHours
from actions.resolve import resolve
from actions.say import offer_found_articles, say_article
from actions.topic import names_topic, topic_words
from actions.visiting_hours import ActionVisitChildren, ActionVisitingHours, ActionVisitNumber
from core.catalogue import CALL_REASONS

# Below this, the NLU's guess is noise whatever words the message holds; above the other, it needs none.
GUESS_CONFIDENCE = 0.25
SURE_GUESS = 0.4
# A search hit that holds this many of the question's terms, and scores this far ahead of the next, is the answer.
CLEAR_MATCH = 3
CLEAR_LEAD = 1.5
ANSWERS = {
    **{intent: ActionAnswerArticle for intent in ARTICLE_INTENTS},
    **{intent: ActionDocumentAnswer for intent in DOCUMENT_INTENTS},
    "ask_opening_hours": ActionOpeningHours,
    "ask_visiting_hours": ActionVisitingHours,
    "ask_visit_children": ActionVisitChildren,
    "ask_visit_number": ActionVisitNumber,
}


def _answer_key(intent: str) -> str:
    """Intents answered the same way (moving and cancelling an appointment: one article) are one guess."""
    reason = CALL_REASONS.get(intent)
    return reason.article if reason and reason.article and intent in ARTICLE_INTENTS else intent


def confirmed_guess(tracker: Tracker, kb: KnowledgeBase) -> str | None:
    """The NLU's best answer under the fallback (its intents' confidences added up), when sure enough, or
    confident enough and confirmed by the message's words."""
    ranking = [item for item in tracker.latest_message.get("intent_ranking") or [] if item.get("name") in ANSWERS]
    totals: dict[str, float] = {}
    for item in ranking:
        totals[_answer_key(item["name"])] = totals.get(_answer_key(item["name"]), 0.0) + (item.get("confidence") or 0.0)
    if not totals:
        return None
    key = max(totals, key=totals.get)
    intent = next(item["name"] for item in ranking if _answer_key(item["name"]) == key)
    message = tracker.latest_message.get("text") or ""
    if intent == "ask_opening_hours" and not resolve(kb.places(), latest_entity(tracker, "place"), message):
        return None
    if totals[key] >= SURE_GUESS or (totals[key] >= GUESS_CONFIDENCE and names_topic(message, topic_words(kb, intent))):
        return intent
    return None


def clear_article(kb: KnowledgeBase, question: str) -> str | None:
    """The article a search finds far ahead of the others, holding several terms of the question."""
    hits = kb.search(question)
    if hits and hits[0].matched >= CLEAR_MATCH and (len(hits) == 1 or hits[0].score >= CLEAR_LEAD * hits[1].score):
        return hits[0].slug
    return None


def answer_as(intent: str, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
    """The answer `intent`'s action gives, as if the NLU had been sure of it."""
    guessed = copy.copy(tracker)
    guessed.latest_message = {**tracker.latest_message, "intent": {"name": intent, "confidence": None}}
    if intent in DOCUMENT_INTENTS:
        guessed.slots = {**tracker.slots, "document_type": DOCUMENT_INTENTS[intent]}
    return ANSWERS[intent]().answer(dispatcher, guessed, kb)


class ActionFallbackSuggestions(KnowledgeAction):
    """Runs on `nlu_fallback` and as the core fallback; needs response `utter_suggestions`."""

    answers_questions = True

    def name(self) -> str:
        return "action_fallback_suggestions"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        guess = confirmed_guess(tracker, kb)
        if guess:
            return [*answer_as(guess, dispatcher, tracker, kb), SlotSet(ANSWERED_TOPIC, guess)]
        question = tracker.latest_message.get("text") or ""
        found = clear_article(kb, question)
        if found and say_article(dispatcher, kb, found):
            topic = next((intent for intent, reason in CALL_REASONS.items() if reason.article == found), None)
            return [*([SlotSet(ANSWERED_TOPIC, topic)] if topic else []), *ask_feedback(dispatcher)]
        organisation = kb.organisation()
        if is_voice(tracker):  # the caller is already on the phone: no buttons, no number to dial
            human = "demander un conseiller, ou appuyer sur la touche zéro"
            topics = ""
        else:
            human = f"parler à un conseiller en appelant le standard au {organisation.switchboard_phone} ({organisation.switchboard_hours})"
            topics = " choisir un sujet ci-dessous,"
        hours = named_place_addendum(kb, latest_entity(tracker, "place"), question, latest_entity(tracker, "day"))
        if hours:
            dispatcher.utter_message(text=hours)
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

    answers_questions = True

    def name(self) -> str:
        return "action_out_of_scope"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        dispatcher.utter_message(response="utter_out_of_scope")
        question = tracker.latest_message.get("text") or ""
        if not offer_found_articles(dispatcher, kb, question, "Si votre question concerne l'hôpital, ces fiches peuvent peut-être vous aider :"):
            dispatcher.utter_message(response="utter_suggestions")
        return no_question()
