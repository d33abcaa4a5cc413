"""Test conversations written into a real tracker store by Rasa's own SQLTrackerStore, as the Rasa server writes them."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from accueil.rasa_endpoints import tracker_store_config

PARIS = ZoneInfo("Europe/Paris")


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> float:
    """An epoch timestamp from the hospital's local time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS).timestamp()


def user(text: str, intent: str, confidence: float = 0.95, *, channel: str = "socketio", caller: str | None = None):
    parse_data = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "entities": [],
    }
    metadata = {"caller": caller} if caller else {}
    return UserUttered(text, {"name": intent, "confidence": confidence}, [], parse_data, input_channel=channel, metadata=metadata)


def bot(text: str | None, response: str | None = None, **custom):
    return BotUttered(text, data={"custom": custom} if custom else {}, metadata={"utter_action": response} if response else {})


def action(name: str):
    return ActionExecuted(name)


def slot(name: str, value):
    return SlotSet(name, value)


def session_start():
    return [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]


def answered(text: str, intent: str, confidence: float = 0.95, **user_args):
    """A question the bot answered from the knowledge base."""
    return [
        user(text, intent, confidence, **user_args),
        action("action_answer_article"),
        bot("Voici la réponse.", "utter_answer"),
    ]


def feedback(answer_intent: str, **user_args):
    return [
        bot("Cette réponse vous a-t-elle aidé ?", "utter_ask_feedback"),
        action("action_listen"),
        user("oui" if answer_intent == "affirm" else "non", answer_intent, 0.99, **user_args),
        action("action_store_feedback"),
    ]


def save(db_url: str, sender_id: str, events: list, start: float) -> None:
    """Appends the events to the conversation through Rasa's SQLTrackerStore, one second apart from `start`."""
    for index, event in enumerate(events):
        event.timestamp = start + index
    config = {k: v for k, v in tracker_store_config(db_url).items() if k != "type"}

    async def write() -> None:
        store = SQLTrackerStore(**config)
        tracker = await store.retrieve(sender_id) or DialogueStateTracker(sender_id, slots=[])
        for event in events:
            tracker.update(event)
        await store.save(tracker)
        store.engine.dispose()

    asyncio.run(write())
