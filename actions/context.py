"""What the conversation is about so far, read from the tracker's events.

Follow-ups ("et le samedi ?") and the handover summary need the last question
the patient asked and the details given since (place, ward, day, document…).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rasa_sdk import Tracker
from core.catalogue import NOT_A_QUESTION


DETAIL_ENTITIES = ("place", "ward", "day", "document_type", "stay_type")


@dataclass
class Context:
    question: str | None = None  # intent of the last real question before the current message
    details: dict[str, str] = field(default_factory=dict)  # entity -> value, latest wins
    questions: list[str] = field(default_factory=list)  # every question intent of the conversation, in order
    last_text: str | None = None  # the patient's last real question, as typed or said


# Slot set when a message was answered on another topic than its NLU intent: a follow-up of the previous
# topic (actions.topic), or the NLU's guess under the fallback threshold (actions.fallback).
ANSWERED_TOPIC = "answered_topic"


def _user_events(tracker: Tracker) -> list[dict]:
    """The patient's messages, each with the `topic` its answer was about when that was not its intent."""
    events: list[dict] = []
    for event in tracker.applied_events():
        if event.get("event") == "user":
            events.append(dict(event))
        elif event.get("event") == "slot" and event.get("name") == ANSWERED_TOPIC and event.get("value") and events:
            events[-1]["topic"] = event["value"]
    return events


def conversation_context(tracker: Tracker, include_latest: bool = False) -> Context:
    """The last question and its details; the current message is left out unless `include_latest`."""
    events = _user_events(tracker)
    if not include_latest and events:
        events = events[:-1]
    context = Context()
    for event in events:
        data = event.get("parse_data") or {}
        intent = event.get("topic") or (data.get("intent") or {}).get("name")
        entities = {e["entity"]: e["value"] for e in data.get("entities") or [] if e.get("entity") in DETAIL_ENTITIES}
        if event.get("topic") and event["topic"] == context.question:  # a follow-up: same topic, more details
            context.details.update(entities)
        elif intent and intent not in NOT_A_QUESTION:
            context.question = intent
            context.details = dict(entities)
            context.questions.append(intent)
            context.last_text = event.get("text")
        else:
            context.details.update(entities)
    return context
