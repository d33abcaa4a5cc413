"""The dialogue: Rasa's `voice` REST channel, asked with the call's id as the sender.

The gateway reaches Rasa only through its HTTP API, as the web widget does, at the address the Rasa
servers share (accueil/public_door.py): a request whose server stopped is sent once more, to another. The voice webhook
answers only requests carrying its secret (`core.secret_files.voice_webhook_secret`), sent as
`Authorization: Bearer SECRET`: nobody else may speak for a caller and give his number.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, Optional

import aiohttp

logger = logging.getLogger(__name__)


class DialogueError(RuntimeError):
    """The dialogue server could not be reached or answered with an error."""


class Dialogue(ABC):
    @abstractmethod
    async def send(self, sender: str, text: str, metadata: Optional[dict[str, Any]] = None) -> list[dict[str, Any]]:
        """The bot's messages in answer to `text` (Rasa's REST format: text, custom, response)."""

    @abstractmethod
    async def run_action(self, sender: str, action: str) -> list[dict[str, Any]]:
        """Make the dialogue run `action` now (a callback form after a failed transfer); its messages."""

    async def close(self) -> None:
        """Release connections."""


class RasaDialogue(Dialogue):
    def __init__(
        self, base_url: str, timeout: float = 10.0, api_token: Optional[str] = None, webhook_secret: Optional[str] = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.url = self.base_url + "/webhooks/voice/webhook"
        self.api_token = api_token
        self.webhook_headers = {"Authorization": f"Bearer {webhook_secret}"} if webhook_secret else {}
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: Optional[aiohttp.ClientSession] = None

    async def _post(self, url: str, body: dict, params: Optional[dict] = None, headers: Optional[dict] = None) -> Any:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        for attempt in (1, 2):
            try:
                async with self._session.post(url, json=body, params=params, headers=headers) as reply:
                    if reply.status != 200:
                        raise DialogueError(f"Rasa answered HTTP {reply.status} at {url}")
                    return await reply.json()
            except aiohttp.ClientConnectionError as exc:
                # The Rasa server of a kept-alive connection stopped (the replicas share the address): once more,
                # on a new connection, which the kernel gives to one that is up. Never after a timeout.
                if attempt == 2 or isinstance(exc, aiohttp.ServerTimeoutError):
                    raise DialogueError(f"Rasa unreachable at {url}: {exc!r}") from exc
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise DialogueError(f"Rasa unreachable at {url}: {exc!r}") from exc

    async def send(self, sender: str, text: str, metadata: Optional[dict[str, Any]] = None) -> list[dict[str, Any]]:
        body = {"sender": sender, "message": text, "metadata": metadata or {}}
        messages = await self._post(self.url, body, headers=self.webhook_headers)
        if not isinstance(messages, list):
            raise DialogueError("Rasa's answer is not a list of messages")
        return messages

    async def run_action(self, sender: str, action: str) -> list[dict[str, Any]]:
        """Through Rasa's HTTP API (open only with a token, which `accueil run` always sets)."""
        if not self.api_token:
            raise DialogueError("Rasa's HTTP API has no token (ACCUEIL_RASA_API_TOKEN)")
        url = f"{self.base_url}/conversations/{sender}/execute"
        reply = await self._post(url, {"name": action}, params={"token": self.api_token, "output_channel": "collector"})
        messages = reply.get("messages") if isinstance(reply, dict) else None
        if not isinstance(messages, list):
            raise DialogueError("Rasa's answer has no messages")
        return messages

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
