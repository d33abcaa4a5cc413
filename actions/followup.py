"""Follow-ups in context: "et le samedi ?", "et pour la maternité ?", "c'est pour un certificat".

The fragment (intent `inform`) continues the previous question with a new
detail: a place or a day for opening hours, a ward for visits, a document
for a document request, the age of the stay for a medical record. A follow-up
on another aspect of the same topic ("et ça coûte combien ?") is answered by
`actions.topic`, before any action's own answer.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.base import Events, KnowledgeAction, ask_feedback, latest_entity, no_question
from actions.call_reasons import RECORD_DELAY_ARTICLES
from actions.context import conversation_context
from actions.kb_repository import KnowledgeBase
from actions.opening_hours import ActionOpeningHours
from actions.say import say_article
from actions.time_expressions import time_asked
from actions.visiting_hours import ActionVisitChildren, ActionVisitingHours, ActionVisitNumber
from core.settings import get_settings

VISIT_ACTIONS = {
    "ask_visiting_hours": ActionVisitingHours,
    "ask_visit_children": ActionVisitChildren,
    "ask_visit_number": ActionVisitNumber,
}


class ActionFollowUp(KnowledgeAction):
    """Needs intent `inform` with entities place, ward, day, document_type or stay_age."""

    answers_questions = True

    def name(self) -> str:
        return "action_follow_up"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        context = conversation_context(tracker)
        message = tracker.latest_message.get("text") or ""
        place, ward, day = (latest_entity(tracker, e) for e in ("place", "ward", "day"))
        age = latest_entity(tracker, "stay_age")
        if age in RECORD_DELAY_ARTICLES and not latest_entity(tracker, "document_type"):
            # The buttons of a medical record's answer: the delay of that case.
            if not say_article(dispatcher, kb, RECORD_DELAY_ARTICLES[age], related=False):
                raise LookupError(f"article {RECORD_DELAY_ARTICLES[age]!r} missing")
            return ask_feedback(dispatcher)
        if latest_entity(tracker, "document_type"):
            return [FollowupAction("document_form")]
        if ward or (context.question in ActionVisitingHours.follows and not place):
            action = VISIT_ACTIONS.get(context.question, ActionVisitingHours)()
            return action.answer_about(dispatcher, kb, ward or context.details.get("ward"), message, day)
        if place or (context.question == "ask_opening_hours" and (day or time_asked(message, get_settings().now()))):
            previous_day = context.details.get("day") if context.question == "ask_opening_hours" else None
            return ActionOpeningHours().answer_about(dispatcher, kb, place or context.details.get("place"), message, day or previous_day)
        dispatcher.utter_message(response="utter_ask_rephrase")
        return no_question()
