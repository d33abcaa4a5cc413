"""The `voice` channel: Rasa's REST webhook for the voice gateway, under its own name.

POST /webhooks/voice/webhook with {"sender": call id, "message": transcript}.
Its name makes Rasa pick the responses' `channel: voice` variations (spoken,
without buttons) and tells the actions to word their answers for the phone.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.web_channels import WebCollectingOutput, refuse_too_long


class VoiceOutput(WebCollectingOutput):
    """Collects the answer, each message named by its response (the gateway says `utter_emergency` slowly)."""

    @classmethod
    def name(cls) -> str:
        return "voice"


class VoiceInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "voice"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("voice_webhook", __name__)
        on_new_message = refuse_too_long(on_new_message)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            sender_id = await self._extract_sender(request)
            text = self._extract_message(request)
            if not sender_id or not isinstance(text, str):
                return response.json({"error": "« sender » et « message » sont requis."}, status=400)
            collector = VoiceOutput()
            await on_new_message(UserMessage(text, collector, sender_id, input_channel=self.name(), metadata=self.get_metadata(request)))
            return response.json(collector.messages)

        return webhook
