"""The channels trust only what the network proves (issue 17): a web client's metadata is dropped and it cannot pass
for the voice channel; the voice webhook answers the gateway's secret only; a malformed body gets a 400, never a 500.

The channels are registered as Rasa registers them (`rasa.core.channels.channel.register`) on a real Sanic server,
in front of a fake agent that records the messages it gets."""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import aiohttp
import pytest
from rasa.core.channels.channel import register
from sanic import Sanic

from bot.voice_channel import VoiceInput
from bot.web_channels import WebRestInput, WebSocketInput
from tests.conftest import free_port
from tests.fuzz.servers import RecordingAgent
from voice_gateway.dialogue import DialogueError, RasaDialogue

SECRET = "le-secret-de-la-passerelle"
CALLER = "sip:0612345678@pbx.ch-valmont.fr"
ATTACK = {"sender": "x", "message": "bonjour", "metadata": {"caller": "0612345678"}, "input_channel": "voice"}


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sanic's test mode: several apps may start in one process (each start rewrites Sanic's own methods)."""
    monkeypatch.setattr(Sanic, "test_mode", True)


class Server:
    def __init__(self, base: str, agent: RecordingAgent, socket: WebSocketInput) -> None:
        self.base, self.agent, self.socket = base, agent, socket

    async def post(self, path: str, data: Any = None, raw: bytes | None = None, secret: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["Authorization"] = f"Bearer {secret}"
        body = raw if raw is not None else json.dumps(data).encode()
        async with aiohttp.ClientSession() as session:
            async with session.post(self.base + path, data=body, headers=headers) as reply:
                text = await reply.text()
                return reply.status, json.loads(text) if text else None


@asynccontextmanager
async def channels() -> AsyncIterator[Server]:
    agent = RecordingAgent()
    app = Sanic(f"channels_{uuid.uuid4().hex}")
    app.ctx.agent = agent
    socket = WebSocketInput("user_uttered", "bot_uttered", session_persistence=True)
    register([WebRestInput(), socket, VoiceInput(secret=SECRET)], app, route="/webhooks/")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    try:
        yield Server(f"http://127.0.0.1:{port}", agent, socket)
    finally:
        server.close()
        await server.wait_closed()


def serve(scenario) -> None:
    async def main() -> None:
        async with channels() as server:
            await scenario(server)

    asyncio.run(main())


def test_the_rest_channel_drops_the_clients_metadata_and_never_passes_for_the_voice_channel() -> None:
    async def scenario(server: Server) -> None:
        status, answer = await server.post("/webhooks/rest/webhook", ATTACK)
        assert (status, [m["text"] for m in answer]) == (200, ["Bonjour."])
        [message] = server.agent.messages
        assert (message.sender_id, message.text, message.input_channel, message.metadata) == ("x", "bonjour", "rest", None)

    serve(scenario)


def test_the_socketio_channel_drops_the_clients_metadata_and_ignores_malformed_events() -> None:
    async def scenario(server: Server) -> None:
        handle = server.socket.sio.handlers["/"]["user_uttered"]
        for bad in ("bonjour", None, [], 42, {"session_id": "s1"}, {"message": 3, "session_id": "s1"}, {"message": "bonjour"}, {"message": "bonjour", "session_id": ["s1"]}):
            await handle("sid-1", bad)
        assert server.agent.messages == []
        await handle("sid-1", {"message": "bonjour", "session_id": "s1", "metadata": {"caller": "0612345678"}, "input_channel": "voice"})
        [message] = server.agent.messages
        assert (message.sender_id, message.text, message.input_channel, message.metadata) == ("s1", "bonjour", "socketio", None)

    serve(scenario)


def test_the_voice_webhook_answers_the_gateways_secret_only() -> None:
    async def scenario(server: Server) -> None:
        for secret in (None, "", "wrong", SECRET + "x", SECRET[:-1]):
            status, answer = await server.post("/webhooks/voice/webhook", ATTACK, secret=secret)
            assert status == 403 and "passerelle téléphonique" in answer["error"]
        assert server.agent.messages == []

        body = {"sender": "call-1", "message": "bonjour", "metadata": {"caller": CALLER, "other": "x" * 2000}}
        status, answer = await server.post("/webhooks/voice/webhook", body, secret=SECRET)
        assert (status, [m["text"] for m in answer]) == (200, ["Bonjour."])
        for metadata in ({"caller": 612345678}, {"caller": "9" * 300}, "caller", None):
            assert (await server.post("/webhooks/voice/webhook", {**body, "metadata": metadata}, secret=SECRET))[0] == 200
        assert [(m.input_channel, m.metadata) for m in server.agent.messages] == [("voice", {"caller": CALLER})] + [("voice", None)] * 4

    serve(scenario)


def test_the_voice_gateway_sends_the_secret_and_the_callers_number() -> None:
    async def scenario(server: Server) -> None:
        dialogue = RasaDialogue(server.base, timeout=5, webhook_secret=SECRET)
        stranger = RasaDialogue(server.base, timeout=5)
        try:
            assert await dialogue.send("call-1", "/greet", {"caller": CALLER}) == [{"recipient_id": "call-1", "text": "Bonjour."}]
            with pytest.raises(DialogueError, match="HTTP 403"):
                await stranger.send("call-2", "/greet", {"caller": CALLER})
        finally:
            await dialogue.close()
            await stranger.close()
        assert [(m.sender_id, m.metadata) for m in server.agent.messages] == [("call-1", {"caller": CALLER})]

    serve(scenario)


MALFORMED = {
    "a JSON array": ["x", "bonjour"],
    "a string": "bonjour",
    "a number": 42,
    "null": None,
    "no message": {"sender": "x"},
    "no sender": {"message": "bonjour"},
    "an empty sender": {"sender": "", "message": "bonjour"},
    "a number as sender": {"sender": 42, "message": "bonjour"},
    "an object as sender": {"sender": {"id": "x"}, "message": "bonjour"},
    "a number as message": {"sender": "x", "message": 42},
    "a list as message": {"sender": "x", "message": ["bonjour"]},
    "a sender too long for the tracker store": {"sender": "x" * 256, "message": "bonjour"},
}
INVALID_JSON = {"invalid JSON": b'{"sender": "x", "message": ', "an empty body": b"", "not UTF-8": b'{"sender": "\xff"}'}


@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/webhooks/voice/webhook"])
def test_a_malformed_body_gets_a_400_never_a_500(path: str) -> None:
    async def scenario(server: Server) -> None:
        for name, body in MALFORMED.items():
            status, answer = await server.post(path, body, secret=SECRET)
            assert status == 400 and answer["error"], name
        for name, raw in INVALID_JSON.items():
            status, answer = await server.post(path, raw=raw, secret=SECRET)
            assert status == 400 and answer["error"], name
        assert server.agent.messages == []
        assert (await server.post(path, {"sender": "x", "message": ""}, secret=SECRET))[0] == 200  # an empty message is a message

    serve(scenario)
