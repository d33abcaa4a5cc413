"""The `voice` channel: Rasa's REST webhook for the voice gateway, under its own name.

POST /webhooks/voice/webhook with {"sender": call id, "message": transcript,
"metadata": {"caller": the caller's SIP URI}} and the header
`Authorization: Bearer SECRET`. Its name makes Rasa pick the responses'
`channel: voice` variations (spoken, without buttons) and tells the actions to
word their answers for the phone.

Only the voice gateway may use it: it is the one that knows the caller's
number (from the telephone network), and the actions recall that number's
contact history. A request without the gateway's secret
(`core.secret_files.voice_webhook_secret`) gets a 403; the metadata of the
message is made here, from the `caller` of an authenticated request only.
"""

from __future__ import annotations

import hmac
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.web_channels import WebCollectingOutput, read_message, refuse_too_long
from core.catalogue import VOICE_CHANNEL
from core.secret_files import voice_webhook_secret
from core.settings import get_settings

MAX_CALLER_LENGTH = 255  # a SIP URI
FORBIDDEN = "Ce point d'accès est réservé à la passerelle téléphonique."


class VoiceOutput(WebCollectingOutput):
    """Collects the answer, each message named by its response (the gateway says `utter_emergency` slowly)."""

    @classmethod
    def name(cls) -> str:
        return VOICE_CHANNEL


def authenticated(request: Request, secret: str) -> bool:
    """Whether the request carries the gateway's secret (`Authorization: Bearer SECRET`), compared in constant time."""
    header = request.headers.get("authorization") or ""
    scheme, _, given = header.partition(" ")
    # surrogateescape: a header that is not UTF-8 reaches here with its bytes escaped, and is simply not the secret.
    given_bytes = given.strip().encode("utf-8", "surrogateescape")
    return scheme.lower() == "bearer" and hmac.compare_digest(given_bytes, secret.encode("utf-8"))


def call_metadata(body: Dict[str, Any]) -> Optional[Dict[str, str]]:
    """The message's metadata: the caller's number the gateway gives, and nothing else."""
    metadata = body.get("metadata")
    caller = metadata.get("caller") if isinstance(metadata, dict) else None
    if isinstance(caller, str) and caller and len(caller) <= MAX_CALLER_LENGTH:
        return {"caller": caller}
    return None


class VoiceInput(RestInput):
    def __init__(self, secret: Optional[str] = None) -> None:
        self.secret = secret  # default: the one `accueil run` gives Rasa and the gateway

    @classmethod
    def name(cls) -> str:
        return VOICE_CHANNEL

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("voice_webhook", __name__)
        on_new_message = refuse_too_long(on_new_message)
        secret = self.secret or voice_webhook_secret(get_settings())

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not authenticated(request, secret):
                return response.json({"error": FORBIDDEN}, status=403)
            read = read_message(request)
            if isinstance(read, HTTPResponse):
                return read
            sender_id, text, body = read
            collector = VoiceOutput()
            await on_new_message(UserMessage(text, collector, sender_id, input_channel=self.name(), metadata=call_metadata(body)))
            return response.json(collector.messages)

        return webhook
