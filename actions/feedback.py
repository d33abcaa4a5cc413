"""Answers that close something: "Cette réponse vous a-t-elle aidé ?", remarks on the hospital, a stopped form.

Both are stored (`actions.records.AnswerFeedback`) with the conversation's id,
channel and the call reason they are about.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import records
from actions.base import Events, KnowledgeAction, no_question
from actions.context import conversation_context
from actions.kb_repository import KnowledgeBase
from core.settings import get_settings


def _latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


class ActionStoreFeedback(KnowledgeAction):
    """Yes or no to "Cette réponse vous a-t-elle aidé ?"; after a no, offers a human."""

    def name(self) -> str:
        return "action_store_feedback"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        helpful = _latest_intent(tracker) == "affirm"
        records.save_feedback(
            get_settings().db_url,
            get_settings().db_wait_seconds,
            sender_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel(),
            intent=conversation_context(tracker).question,
            helpful=helpful,
        )
        if helpful:
            dispatcher.utter_message(response="utter_glad_it_helped")
            return [SlotSet("answer_helpful", True), *no_question()]
        dispatcher.utter_message(response="utter_offer_human")
        return [SlotSet("answer_helpful", False), SlotSet("pending_question", "handover_offer")]


class ActionRecordRemark(KnowledgeAction):
    """A compliment or a complaint about the hospital: stored for the staff, thanked for."""

    def name(self) -> str:
        return "action_record_remark"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        records.save_feedback(
            get_settings().db_url,
            get_settings().db_wait_seconds,
            sender_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel(),
            intent="satisfaction_feedback",
            comment=tracker.latest_message.get("text"),
        )
        dispatcher.utter_message(response="utter_remark_recorded")
        return no_question()


class ActionNothingPending(KnowledgeAction):
    """A yes or no that answers no open question, or a no to an offer: nothing to do but ask what next."""

    def name(self) -> str:
        return "action_nothing_pending"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        dispatcher.utter_message(response="utter_anything_else")
        return no_question()


class ActionStopForm(KnowledgeAction):
    """Ends the active form without keeping what it had gathered (after a vital emergency)."""

    FORM_SLOTS = ("document_type", "stay_age", "callback_name", "callback_phone", "callback_reason", "requested_slot")

    def name(self) -> str:
        return "action_stop_form"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        return [ActiveLoop(None), *(SlotSet(slot, None) for slot in self.FORM_SLOTS), *no_question()]
