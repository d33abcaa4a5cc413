"""Base class of the actions that answer from the knowledge base.

It runs the blocking database reads in a worker thread and turns any
failure (the database down, or locked for longer than DB_WAIT_SECONDS) into
the polite French answer of `core.degraded`: the service is briefly
unavailable, the switchboard's number, and on the phone the offer of a
transfer; the failed action changes nothing else and Rasa listens, so the
conversation goes on where it was once the database is back (a new connection
at the next message: nothing to restart). A short follow-up on another aspect of
the previous topic is answered from that topic (`actions.topic`) whatever
action the NLU's intent led to. (Vital emergencies never reach these
actions: `bot.vital_emergency` reroutes them in the NLU.)
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABCMeta, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import contacts
from actions.channel import for_voice, is_voice
from actions.context import ANSWERED_TOPIC
from actions.kb_repository import KnowledgeBase, KnowledgeBaseEmpty, get_knowledge_base
from actions.second_question import answered_articles, second_answer
from actions.topic import aspect_follow_up
from core import degraded
from core.metrics import count_error
from core.settings import get_settings

log = logging.getLogger(__name__)

Events = list[dict[str, Any]]


class KnowledgeAction(Action, metaclass=ABCMeta):
    """Answers from the knowledge base; subclasses implement `answer` (blocking, in a thread)."""

    # Actions that answer a patient's question: a follow-up on the previous topic or a second question may
    # be answered instead or as well (not the handover, the feedback or the forms' steps).
    answers_questions = False

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> Events:
        try:
            events = await asyncio.to_thread(self._answer_and_remember, dispatcher, tracker)
        except Exception:
            log.exception("Action %s failed", self.name())
            count_error("actions")
            dispatcher.messages.clear()  # no half answer before the apology
            return answer_while_away(dispatcher, tracker, self.failure_text(switchboard_phone()))
        if is_voice(tracker):
            dispatcher.messages[:] = for_voice(dispatcher.messages)
        return events

    def failure_text(self, phone: str | None) -> str | None:
        """What the patient is told when the database fails (None: the service is briefly unavailable)."""
        return None

    def _answer_and_remember(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        kb = get_knowledge_base()
        _remember_switchboard(kb)
        follow_up = aspect_follow_up(tracker, kb) if self.answers_questions else None
        if follow_up:
            topic, lines = follow_up
            dispatcher.utter_message(text="\n".join(lines))
            events = [SlotSet(ANSWERED_TOPIC, topic), *ask_feedback(dispatcher)]
        else:
            events = self.answer(dispatcher, tracker, kb)
            if self.answers_questions:
                _add_second_answer(dispatcher, tracker, kb, answered_topic(tracker, events))
        contacts.remember_safely(tracker)  # an identified person's contact history gets this question
        return events

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    @abstractmethod
    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        """Write the answer with `dispatcher`; return the events to apply."""


# The switchboard's number, read from the knowledge base by the first action that runs.
SWITCHBOARD: dict[str, str] = {}


def _remember_switchboard(kb: KnowledgeBase) -> None:
    if "phone" not in SWITCHBOARD:
        try:
            SWITCHBOARD["phone"] = kb.organisation().switchboard_phone
        except KnowledgeBaseEmpty:
            pass  # nothing to remember yet; a database away fails the answer itself


def switchboard_phone() -> str | None:
    return SWITCHBOARD.get("phone") or get_settings().switchboard_phone


def answer_while_away(dispatcher: CollectingDispatcher, tracker: Tracker, text: str | None = None) -> Events:
    """The answer of `core.degraded` (or `text`, with the same offer); nothing else changes, Rasa listens."""
    events = [
        (e.get("event"), e.get("name") if e.get("event") == "action" else (e.get("metadata") or {}).get("utter_action"))
        for e in tracker.events
    ]
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    phone = switchboard_phone()
    for message in degraded.answer_while_away(phone, tracker.get_latest_input_channel(), intent, degraded.previous_bot_response(events), text):
        if "custom" in message:
            dispatcher.utter_message(json_message=message["custom"])
        else:
            dispatcher.utter_message(text=message["text"], utter_action=message["utter_action"])
    return [FollowupAction("action_listen")]


def answered_topic(tracker: Tracker, events: Events) -> str | None:
    """The intent the answer was about: the NLU's, unless the answer says another (`ANSWERED_TOPIC`)."""
    said = [e.get("value") for e in events if e.get("event") == "slot" and e.get("name") == ANSWERED_TOPIC]
    return said[-1] if said and said[-1] else (tracker.latest_message.get("intent") or {}).get("name")


def _add_second_answer(dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase, first: str | None) -> None:
    """A second question in the same message gets its answer too, after the first one's text and before
    what the first answer offers (related articles, "did it help?")."""
    extra = second_answer(tracker, kb, first, answered_articles(first))
    if extra:
        said = CollectingDispatcher()
        said.utter_message(text=f"Pour votre autre question : {extra}")
        at = next((i for i, m in enumerate(dispatcher.messages) if i and (m.get("buttons") or m.get("response"))), len(dispatcher.messages))
        dispatcher.messages.insert(at, said.messages[0])


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
