"""Real servers for the bad-input suite, each on a free loopback port in a thread of its own.

The channels are registered on a Sanic app as Rasa registers them, in front of an agent that answers « Bonjour. »
and records what it gets; the app takes the request size limit `accueil.rasa_launch` gives Rasa's."""

from __future__ import annotations

import asyncio
import threading
import uuid
from contextlib import contextmanager
from typing import Any, Awaitable, Callable, Iterator
from unittest import mock

from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic

from bot.voice_channel import VoiceInput
from bot.web_channels import WebRestInput, WebSocketInput
from core.settings import Settings
from tests.conftest import free_port

SECRET = "le-secret-de-la-passerelle"


class RecordingAgent:
    """Rasa's agent as the channels see it: answers « Bonjour. » and keeps every message."""

    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(message.sender_id, "Bonjour.")


@contextmanager
def in_thread(start: Callable[[], Awaitable[Any]], stop: Callable[[Any], Awaitable[None]]) -> Iterator[Any]:
    """Runs `start()` on an event loop in a thread of its own, yields its result, then `stop(result)`."""
    loop = asyncio.new_event_loop()
    ready: dict = {}
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            ready["value"] = loop.run_until_complete(start())
        except BaseException as exc:  # reported to the test below
            ready["error"] = exc
        started.set()
        if "error" not in ready:
            loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(30)
    if "error" in ready:
        raise ready["error"]
    try:
        yield ready["value"]
    finally:
        asyncio.run_coroutine_threadsafe(stop(ready["value"]), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


@contextmanager
def channel_server(settings: Settings) -> Iterator[tuple[str, RecordingAgent]]:
    """The REST, socket.io and voice channels on a real Sanic server; yields its address and the agent."""
    agent = RecordingAgent()
    port = free_port()

    async def start():
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
        await server.startup()
        return server

    async def stop(server) -> None:
        server.close()
        await server.wait_closed()
        for connection in list(server.connections):
            connection.close_if_idle() or connection.close()  # kept-alive connections of the test's clients
        await asyncio.sleep(0.1)
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    with mock.patch.object(Sanic, "test_mode", True):  # several apps in one process
        app = Sanic(f"fuzz_{uuid.uuid4().hex}")
        app.config.REQUEST_MAX_SIZE = settings.max_request_bytes  # as accueil.rasa_launch gives Rasa's app
        app.ctx.agent = agent
        with mock.patch("bot.web_channels.get_settings", return_value=settings):
            channels = [WebRestInput(), WebSocketInput("user_uttered", "bot_uttered", session_persistence=True), VoiceInput(secret=SECRET)]
            register(channels, app, route="/webhooks/")
        with in_thread(start, stop):
            yield f"http://127.0.0.1:{port}", agent
