"""The voice gateway's way to Rasa when a Rasa server stops mid-request: the request goes once more, on a new
connection (the replicas share the address: the kernel gives it to one that is up); a second failure is an error."""

from __future__ import annotations

import asyncio
import json

import pytest

from voice_gateway.dialogue import DialogueError, RasaDialogue

ANSWER = [{"recipient_id": "call-1", "text": "Bonjour, que puis-je faire pour vous ?"}]


async def serve(drops: int) -> tuple[asyncio.AbstractServer, list[str]]:
    """A server that hangs up on the first `drops` requests (a Rasa server killed), then answers them."""
    seen: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        seen.append(json.loads(await reader.readexactly(length))["message"])
        if len(seen) <= drops:
            writer.transport.abort()
            return
        body = json.dumps(ANSWER).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0), seen


def test_a_request_whose_rasa_server_stopped_is_sent_once_more() -> None:
    async def scenario():
        server, seen = await serve(drops=1)
        dialogue = RasaDialogue(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", timeout=5)
        try:
            return await dialogue.send("call-1", "bonjour"), seen
        finally:
            await dialogue.close()
            server.close()

    messages, seen = asyncio.run(scenario())
    assert messages == ANSWER and seen == ["bonjour", "bonjour"]


def test_a_second_failure_is_the_callers_apology_not_a_third_try() -> None:
    async def scenario():
        server, seen = await serve(drops=5)
        dialogue = RasaDialogue(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", timeout=5)
        try:
            with pytest.raises(DialogueError, match="unreachable"):
                await dialogue.send("call-1", "bonjour")
            return seen
        finally:
            await dialogue.close()
            server.close()

    assert asyncio.run(scenario()) == ["bonjour", "bonjour"]
