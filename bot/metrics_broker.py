"""Rasa's event broker for Prometheus: counts the conversations' events as the tracker store saves them.

Configured by `accueil.rasa_endpoints` (`event_broker: type: bot.metrics_broker.MetricsBroker`).
Rasa publishes every new event of a conversation when it saves it, once per message handled.
Counted by channel (`rest`/`socketio` = web, `voice`), with the definitions of the analytics
(`core.catalogue`): messages (user events), fallbacks (the intent `nlu_fallback`, or the
fallback suggestions ran; once per message), handovers (`action_transfer`, `action_save_callback`),
emergencies (the `emergency` intent), and the response time of each message: from its user event
(stamped once the NLU has understood it) to the next `action_listen` of the conversation.
Rasa failing to run a custom action (action server unreachable) is counted from Rasa's own log.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Optional

from rasa.core.brokers.broker import EventBroker

from core import metrics
from core.catalogue import (
    CALLBACK_ACTION,
    CALLBACK_KIND,
    CHANNEL_GROUPS,
    CHANNELS,
    EMERGENCY_INTENT,
    FALLBACK_ACTION,
    FALLBACK_INTENT,
    LISTEN_ACTION,
    TRANSFER_ACTION,
    TRANSFER_KIND,
)

logger = logging.getLogger(__name__)

HANDOVER_ACTIONS = {TRANSFER_ACTION: TRANSFER_KIND, CALLBACK_ACTION: CALLBACK_KIND}
OTHER_CHANNEL = "other"  # a conversation whose channel this process has not seen (e.g. `rasa shell`)
REMEMBERED = 10_000  # conversations whose channel and pending message are kept (the least recent are forgotten)
# Rasa's processor logs this, with the exception, when a custom action could not be run.
ACTION_FAILED_LOG = "Encountered an exception while running action"


@dataclass
class _Conversation:
    channel: str
    asked_at: Optional[float] = None  # the timestamp of the message being handled
    fallback_counted: bool = False


class MetricsBroker(EventBroker):
    def __init__(self) -> None:
        self._conversations: OrderedDict[str, _Conversation] = OrderedDict()
        self._metrics = metrics.instruments()
        for channel in CHANNEL_GROUPS:  # every series exists from the start, at 0
            for counter in (self._metrics.messages, self._metrics.fallbacks, self._metrics.emergencies):
                counter.labels(channel=channel)
            self._metrics.response_seconds.labels(channel=channel)
            for kind in HANDOVER_ACTIONS.values():
                self._metrics.handovers.labels(channel=channel, kind=kind)
        self._metrics.errors.labels(component="action_server")
        watch_action_failures()

    @classmethod
    async def from_endpoint_config(cls, broker_config: Any, event_loop: Any = None) -> "MetricsBroker":
        return cls()

    def publish(self, event: dict[str, Any]) -> None:
        try:
            self._count(event)
        except Exception:  # the metrics never stop a conversation from being saved
            logger.exception("Prometheus metrics: event not counted")

    def _count(self, event: dict[str, Any]) -> None:
        sender = str(event.get("sender_id") or "")
        kind = event.get("event")
        if kind == "user":
            channel = CHANNELS.get(event.get("input_channel") or "", OTHER_CHANNEL)
            conversation = self._remember(sender, _Conversation(channel, asked_at=event.get("timestamp")))
            self._metrics.messages.labels(channel=channel).inc()
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent == FALLBACK_INTENT:
                self._fallback(conversation)
            elif intent == EMERGENCY_INTENT:
                self._metrics.emergencies.labels(channel=channel).inc()
        elif kind == "action":
            name = event.get("name")
            conversation = self._conversations.get(sender) or _Conversation(OTHER_CHANNEL)
            if name == FALLBACK_ACTION:
                self._fallback(conversation)
            elif name in HANDOVER_ACTIONS:
                self._metrics.handovers.labels(channel=conversation.channel, kind=HANDOVER_ACTIONS[name]).inc()
            elif name == LISTEN_ACTION and conversation.asked_at is not None and event.get("timestamp") is not None:
                elapsed = max(0.0, float(event["timestamp"]) - float(conversation.asked_at))
                self._metrics.response_seconds.labels(channel=conversation.channel).observe(elapsed)
                conversation.asked_at = None

    def _fallback(self, conversation: _Conversation) -> None:
        if not conversation.fallback_counted:
            conversation.fallback_counted = True
            self._metrics.fallbacks.labels(channel=conversation.channel).inc()

    def _remember(self, sender: str, conversation: _Conversation) -> _Conversation:
        self._conversations[sender] = conversation
        self._conversations.move_to_end(sender)
        while len(self._conversations) > REMEMBERED:
            self._conversations.popitem(last=False)
        return conversation


class _ActionFailures(logging.Handler):
    """Counts Rasa's log of a custom action it could not run (its events are lost)."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR and str(record.msg).startswith(ACTION_FAILED_LOG):
            metrics.count_error("action_server")


def watch_action_failures() -> None:
    processor_log = logging.getLogger("rasa.core.processor")
    if not any(isinstance(handler, _ActionFailures) for handler in processor_log.handlers):
        processor_log.addHandler(_ActionFailures())
