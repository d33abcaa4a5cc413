"""Rasa's socket.io and REST channels, as the web widget needs them.

They keep Rasa's names ("socketio", "rest") and protocols, and add three things:
- a patient message longer than the limit (1,000 characters by default) is
  answered with a polite French refusal and never reaches the assistant;
- every bot message says which domain response it is (`"response":
  "utter_ask_feedback"`), so the widget can show that question as thumbs;
- custom payloads (the `handover` of a transfer) reach socket.io clients as
  `{"custom": {...}}`, as they do on REST; Rasa's own socket.io output passes
  them to `emit` as keyword arguments, which fails.

They trust nothing the client says about itself: the `metadata` a client sends
(REST body, socket.io event) is dropped, and the `input_channel` of a REST body
is ignored, so a web page can never pass for the voice channel nor give a
caller's phone number (`actions.contacts` would tell it that number's history).
The widget sends no metadata. A malformed REST body (not a JSON object, no
`sender` or `message`, not strings) gets a 400, never a 500.

They limit each client (bot/rate_limit.py): a client address or a conversation
sending faster than the settings allow gets a polite French refusal (REST: HTTP
429 with `Retry-After` and the refusal as a bot message; socket.io: the refusal
as a `bot_uttered`), and the message never reaches the assistant. A socket.io
message is at most ACCUEIL_MAX_REQUEST_BYTES (as every request body to Rasa:
accueil/rasa_launch.py).

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
import logging
import math
import uuid
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple, Union

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rate_limit import WebRateLimit, too_many
from core.settings import get_settings

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

# Rasa's SQL tracker store keeps sender ids in a VARCHAR(255) column.
MAX_SENDER_LENGTH = 255
BAD_BODY = "Le corps de la requête doit être un objet JSON avec « sender » et « message » (des chaînes de caractères)."

TOO_LONG = (
    "Votre message est trop long ({length} caractères) : je ne peux lire que {limit} caractères au plus. "
    "Pouvez-vous le raccourcir, ou poser vos questions une par une ?"
)


def refuse_too_long(on_new_message: OnNewMessage) -> OnNewMessage:
    """`on_new_message`, but messages over the limit get a polite refusal instead of an answer."""

    async def handle(message: UserMessage) -> None:
        # A JSON body may carry lone surrogates (\ud800), which are not Unicode: the tracker store could not keep them.
        message.text = (message.text or "").encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        limit = get_settings().max_message_length
        length = len(message.text or "")
        if length > limit:
            await message.output_channel.send_text_message(message.sender_id, TOO_LONG.format(length=length, limit=limit))
            return
        await on_new_message(message)

    return handle


def is_unicode(text: str) -> bool:
    """False for a string holding lone surrogates (a JSON body may escape them: \ud800), which no database keeps."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def bad_request(detail: str = BAD_BODY) -> HTTPResponse:
    return response.json({"error": detail}, status=400)


def read_message(request: Request) -> Union[Tuple[str, str, Dict[str, Any]], HTTPResponse]:
    """(sender, message, body) of a webhook request, or the 400 answer to a malformed one."""
    try:
        body = request.json
    except Exception:  # Sanic's own error for a body that is not JSON (or not UTF-8)
        return bad_request("Le corps de la requête n'est pas du JSON valide.")
    if not isinstance(body, dict):
        return bad_request()
    sender, text = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not sender.strip() or not isinstance(text, str):
        return bad_request()
    if len(sender) > MAX_SENDER_LENGTH:
        return bad_request(f"« sender » est trop long ({MAX_SENDER_LENGTH} caractères au plus).")
    if not is_unicode(sender):
        return bad_request("« sender » n'est pas du texte Unicode valide.")
    return sender, text, body


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
        handle = refuse_too_long(on_new_message)
        blueprint = super().blueprint(handle)
        sio = self.sio
        sio.eio.allow_upgrades = False
        settings = get_settings()
        sio.eio.max_http_buffer_size = settings.max_request_bytes
        limit = WebRateLimit(settings)

        async def refused(sid: Text, sender_id: Text) -> bool:
            """Whether the message is over a limit; if so the client is told, on its own socket."""
            environ = sio.get_environ(sid, namespace=self.namespace) or {}
            request = environ.get("sanic.request")
            peer = request.ip if request is not None else ""
            wait = limit.address_wait(peer, environ.get("HTTP_X_FORWARDED_FOR")) or limit.sender_wait(sender_id)
            if wait:
                await sio.emit(self.bot_message_evt, {"text": too_many(wait)}, room=sid, namespace=self.namespace)
            return bool(wait)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any = None) -> None:
            """Rasa's handler, without the client's metadata and ignoring malformed events."""
            if not isinstance(data, dict) or not isinstance(data.get("message"), str):
                logger.debug("socket.io event without a message from %s ignored", sid)
                return
            sender_id = sid
            if self.session_persistence:
                sender_id = data.get("session_id")
                if not isinstance(sender_id, str) or not sender_id or len(sender_id) > MAX_SENDER_LENGTH or not is_unicode(sender_id):
                    logger.debug("socket.io message without a valid session_id from %s ignored", sid)
                    return
            if await refused(sid, sender_id):
                return
            output = WebSocketOutput(sio, self.bot_message_evt)
            await handle(UserMessage(data["message"], output, sender_id, input_channel=self.name(), metadata=None))

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any = None) -> None:
            session_id = data.get("session_id") if isinstance(data, dict) else None
            if not isinstance(session_id, str) or not session_id or len(session_id) > MAX_SENDER_LENGTH or not is_unicode(session_id):
                session_id = uuid.uuid4().hex
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
    """Rasa's REST channel with response names and the length limit, without the client's metadata."""

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return None  # what a client says about itself proves nothing (a `caller` would be somebody's number)

    def _extract_input_channel(self, request: Request) -> Text:
        return self.name()  # never "voice" because the body says so

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        handle = refuse_too_long(on_new_message)
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)
        limit = WebRateLimit(get_settings())

        def too_fast(wait: float, sender_id: Optional[str] = None) -> HTTPResponse:
            message = {"recipient_id": sender_id, "text": too_many(wait)} if sender_id else {"text": too_many(wait)}
            return response.json([message], status=429, headers={"Retry-After": str(max(1, math.ceil(wait)))})

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Any:
            wait = limit.address_wait(request.ip, ",".join(request.headers.getall("x-forwarded-for", [])))
            if wait:
                return too_fast(wait)
            read = read_message(request)
            if isinstance(read, HTTPResponse):
                return read
            sender_id, text, _ = read
            wait = limit.sender_wait(sender_id)
            if wait:
                return too_fast(wait, sender_id)
            if bool_arg(request, "stream", default=False):
                stream = self.stream_response(handle, text, sender_id, self.name(), None)
                return response.stream(stream, content_type="text/event-stream")
            collector = WebCollectingOutput()
            try:
                await handle(UserMessage(text, collector, sender_id, input_channel=self.name(), metadata=None))
            except CancelledError:
                logger.error("REST message of %s timed out", sender_id[:8])
            except Exception:  # as Rasa's channel: the patient gets what was said before the failure
                logger.exception("REST message of %s failed", sender_id[:8])
            return response.json(collector.messages)

        return webhook
