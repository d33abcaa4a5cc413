"""Rasa's socket.io and REST channels, as the web widget needs them.

They keep Rasa's names ("socketio", "rest") and protocols, and add three things:
- a patient message longer than the limit (1,000 characters by default) is
  answered with a polite French refusal and never reaches the assistant;
- every bot message says which domain response it is (`"response":
  "utter_ask_feedback"`), so the widget can show that question as thumbs;
- custom payloads (the `handover` of a transfer) reach socket.io clients as
  `{"custom": {...}}`, as they do on REST; Rasa's own socket.io output passes
  them to `emit` as keyword arguments, which fails.

It also works around two faults of Rasa 3.6's socket.io channel with the
locked python-socketio 5 and Sanic 21.12 on Python 3.11:
- `session_request` calls `enter_room` without awaiting it (a coroutine since
  python-socketio 5.10), so a persistent session never receives its answers;
  the handler is replaced by one that awaits it;
- Sanic 21.12's websocket implementation fails on Python 3.11 ("Passing
  coroutines is forbidden"), so the server does not offer the upgrade to
  websocket and socket.io stays on HTTP long-polling, which works.
"""

from __future__ import annotations

import inspect
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from accueil.settings import get_settings

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

TOO_LONG = (
    "Votre message est trop long ({length} caractères) : je ne peux lire que {limit} caractères au plus. "
    "Pouvez-vous le raccourcir, ou poser vos questions une par une ?"
)


def refuse_too_long(on_new_message: OnNewMessage, prepare: Optional[Callable[[UserMessage], None]] = None) -> OnNewMessage:
    """`on_new_message`, but messages over the limit get a polite refusal instead of an answer."""

    async def handle(message: UserMessage) -> None:
        if prepare is not None:
            prepare(message)
        limit = get_settings().max_message_length
        length = len(message.text or "")
        if length > limit:
            await message.output_channel.send_text_message(message.sender_id, TOO_LONG.format(length=length, limit=limit))
            return
        await on_new_message(message)

    return handle


class WebSocketOutput(SocketIOOutput):
    """socket.io output that names each message's response and sends custom payloads as `custom`."""

    def __init__(self, sio: Any, bot_message_evt: Text) -> None:
        super().__init__(sio, bot_message_evt)
        self._response: Optional[str] = None

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self._response = message.get("utter_action")
        try:
            await super().send_response(recipient_id, message)
        finally:
            self._response = None

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        if self._response and isinstance(response, dict):
            response = {**response, "response": self._response}
        await super()._send_message(socket_id, response)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class WebSocketInput(SocketIOInput):
    """Rasa's socket.io channel with the widget's output and the length limit."""

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        def use_web_output(message: UserMessage) -> None:
            message.output_channel = WebSocketOutput(self.sio, self.bot_message_evt)

        blueprint = super().blueprint(refuse_too_long(on_new_message, use_web_output))
        sio = self.sio
        sio.eio.allow_upgrades = False

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            session_id = (data or {}).get("session_id") or uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        return blueprint


class WebCollectingOutput(CollectingOutputChannel):
    """REST output that names each message's response."""

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        response = message.get("utter_action")
        before = len(self.messages)
        await super().send_response(recipient_id, message)
        if response:
            for sent in self.messages[before:]:
                sent["response"] = response


class WebRestInput(RestInput):
    """Rasa's REST channel with response names and the length limit."""

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        async def collect(message: UserMessage) -> None:
            if type(message.output_channel) is not CollectingOutputChannel:  # streaming: left as Rasa does it
                await on_new_message(message)
                return
            original = message.output_channel
            message.output_channel = WebCollectingOutput()
            try:
                await on_new_message(message)
            finally:
                original.messages.extend(message.output_channel.messages)

        return super().blueprint(refuse_too_long(collect))
