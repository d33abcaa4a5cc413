"""Runs custom actions as the action server does: trackers built from user turns, messages collected."""

from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


def user(
    text: str, intent: str, entities: dict[str, str] | None = None, channel: str = "rest", metadata: dict | None = None
) -> dict:
    """A user event as Rasa sends it to the action server (`metadata`: the channel's, e.g. the voice call's caller)."""
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()]}
    return {"event": "user", "text": text, "parse_data": parse, "input_channel": channel, "metadata": metadata or {}}


def tracker(*turns: dict, slots: dict | None = None, sender: str = "patient-1") -> Tracker:
    """A tracker whose events are the turns (the last one is the latest message)."""
    events = []
    for turn in turns:
        events += [turn, {"event": "action", "name": "action_listen"}] if turn is not turns[-1] else [turn]
    return Tracker(sender, slots or {}, turns[-1]["parse_data"], events, False, None, {}, "action_listen")


def run(action, track: Tracker):
    """(messages, events) of one run of `action`."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, {}))
    return dispatcher.messages, events


def texts(messages) -> str:
    return "\n".join(m.get("text") or "" for m in messages)
