"""The actions that answer with an editor's article: the article of the intent's call reason, or one the patient opened."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.aspects import asked_aspects
from actions.base import Events, KnowledgeAction, ask_feedback, latest_entity, no_question
from actions.kb_repository import KnowledgeBase
from actions.opening_at_time import named_place_addendum
from actions.say import contact_lines, directory_items, say_article
from actions.time_expressions import time_asked
from core.catalogue import CALL_REASONS
from core.settings import get_settings


class ActionAnswerArticle(KnowledgeAction):
    """The article of the latest intent's call reason (`actions.call_reasons.ARTICLE_INTENTS`),
    and the hours of a place the question names ("régler à la caisse" → the billing office's hours)."""

    answers_questions = True

    def name(self) -> str:
        return "action_answer_article"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        reason = CALL_REASONS.get(intent)
        if reason is None or reason.article is None:
            raise LookupError(f"no article for intent {intent!r}")
        # The place's hours, or yes or no for the time asked ("payer à la caisse en fin d'après-midi ?"): the place
        # named, or the service of the call reason when only a time is.
        message = tracker.latest_message.get("text") or ""
        place = latest_entity(tracker, "place") or (reason.service if time_asked(message, get_settings().now()) else None)
        addendum = named_place_addendum(kb, place, message, latest_entity(tracker, "day"))
        if place and any(a.name in ("who", "online") for a in asked_aspects(message)):
            # "le numéro de la radio pour un rendez-vous" : the service's phone and e-mail too.
            named = next((p.name for p in kb.places() if p.slug == place), place)
            contact = contact_lines(kb, CALL_REASONS["ask_service_contact"].article, named)
            addendum = "\n".join(filter(None, [addendum, *contact])) or None
        items = directory_items(kb, reason.article, message)
        if items:
            dispatcher.utter_message(text="\n".join(items + ([addendum] if addendum else [])))
        elif not say_article(dispatcher, kb, reason.article, addendum=addendum):
            raise LookupError(f"article {reason.article!r} missing from the knowledge base")
        return ask_feedback(dispatcher)


class ActionShowArticle(KnowledgeAction):
    """Needs intent `show_article` with entity `article` (a slug, sent by the buttons of a search)."""

    def name(self) -> str:
        return "action_show_article"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        slug = latest_entity(tracker, "article")
        if not slug or not say_article(dispatcher, kb, slug):
            dispatcher.utter_message(text="Je ne retrouve pas cette fiche : elle a peut-être été retirée. Pouvez-vous reformuler votre question ?")
            return no_question()
        return ask_feedback(dispatcher)
