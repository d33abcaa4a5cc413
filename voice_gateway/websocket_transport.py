"""The WebSocket audio transport: a "call" from a web page, a test or the benchmark.

Protocol, on ws://HOST:PORT/call:
- the client sends binary messages of 16 kHz mono PCM16 audio (any length),
  and text messages `{"type": "dtmf", "digit": "0"}` or `{"type": "hangup"}`;
- the server sends `{"type": "answered", "call_id": ...}` first, then the
  bot's audio as binary 20 ms messages at the pace it would be heard, and
  events: `{"type": "turn", ...}` (where an answer's time went),
  `{"type": "transfer", "target": ..., "summary": ...}`, `{"type": "hangup"}`.

Limits: a message over 64 KiB closes the call (code 1009); when the process
already has its `max_calls` WebSocket calls, a new one is closed at once with
code 1013 (try again later) and a French reason; audio sent faster than it can
be recognised is dropped past MAX_QUEUED_EVENTS frames; a text message that is
not one of the events above is ignored.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
import time
import uuid
from typing import Callable, Optional

import websockets
from websockets.exceptions import ConnectionClosed

from voice_gateway.frames import FRAME_BYTES, FRAME_MS, AudioInFrame, DTMFFrame, HangUpFrame
from voice_gateway.transport import CallConnection, CallHandler

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024
MAX_QUEUED_EVENTS = 500  # 10 s of audio frames waiting for the call's pipeline
BUSY_CODE = 1013  # "try again later"
BUSY = "Toutes les lignes sont occupées : merci de rappeler dans quelques minutes."
DTMF_KEYS = "0123456789*#"


class WebSocketCall(CallConnection):
    transport_name = "websocket"

    def __init__(self, socket, loop: asyncio.AbstractEventLoop) -> None:
        peer = socket.remote_address[0] if socket.remote_address else "?"
        super().__init__(uuid.uuid4().hex, f"websocket:{peer}", loop)
        self.socket = socket
        self._pending = bytearray()
        self.closed = False

    async def send_event(self, event: dict) -> None:
        if not self.closed:
            try:
                await self.socket.send(json.dumps(event, ensure_ascii=False))
            except ConnectionClosed:
                self.closed = True

    def notify(self, event: dict) -> None:
        self.loop.create_task(self.send_event(event))

    def receive_audio(self, data: bytes) -> None:
        self._pending += data
        while len(self._pending) >= FRAME_BYTES:
            if self.events.qsize() < MAX_QUEUED_EVENTS:
                self.events.put_nowait(AudioInFrame(bytes(self._pending[:FRAME_BYTES])))
            del self._pending[:FRAME_BYTES]

    async def play(self) -> None:
        """Send the playout 20 ms at a time, on a steady clock, while the call lasts."""
        period = FRAME_MS / 1000
        tick = time.monotonic()
        while not self.closed:
            tick += period
            delay = tick - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                tick = time.monotonic()  # the loop fell behind: start a fresh clock rather than burst
            if self.playout.pending_ms <= 0:
                self.playout.read_frame()  # counts an underrun if the bot is mid-answer
                continue
            try:
                await self.socket.send(self.playout.read_frame())
            except ConnectionClosed:
                self.closed = True

    async def transfer(self, target: str, summary: str) -> bool:
        await self.send_event({"type": "transfer", "target": target, "summary": summary})
        return True

    async def hang_up(self) -> None:
        await self.send_event({"type": "hangup"})
        self.closed = True
        await self.socket.close()
        self.events.put_nowait(HangUpFrame("bot"))


class WebSocketTransport:
    def __init__(
        self,
        host: str,
        port: int,
        allowed_origins: Optional[list[str]] = None,
        health: Optional[Callable[[], dict]] = None,
        max_calls: Optional[int] = None,
    ) -> None:
        self.host = host
        self.port = port
        self.max_calls = max_calls
        self.allowed_origins = allowed_origins
        self.health = health  # GET /health on the same port answers this, as JSON
        self._server = None
        self.calls: set[WebSocketCall] = set()

    @property
    def active_calls(self) -> int:
        return len(self.calls)

    async def _plain_http(self, path: str, headers):
        if self.health is not None and path.split("?")[0] == "/health":
            body = json.dumps(self.health()).encode()
            return http.HTTPStatus.OK, [("Content-Type", "application/json")], body
        return None

    async def start(self, handler: CallHandler) -> None:
        async def serve(socket, path: str = "") -> None:
            path = path or getattr(socket, "path", "")
            if path.split("?")[0] != "/call":
                await socket.close(code=4404, reason="unknown path")
                return
            if self.max_calls is not None and len(self.calls) >= self.max_calls:
                logger.warning("WebSocket call refused: %d calls in progress", len(self.calls))
                await socket.close(code=BUSY_CODE, reason=BUSY)
                return
            await self._serve_call(socket, handler)

        origins = [None, *self.allowed_origins] if self.allowed_origins else None
        self._server = await websockets.serve(
            serve, self.host, self.port, origins=origins, max_size=MAX_MESSAGE_BYTES, process_request=self._plain_http
        )
        self.port = self._server.sockets[0].getsockname()[1]
        logger.info("WebSocket calls on ws://%s:%d/call", self.host, self.port)

    async def _serve_call(self, socket, handler: CallHandler) -> None:
        call = WebSocketCall(socket, asyncio.get_running_loop())
        self.calls.add(call)
        await call.send_event({"type": "answered", "call_id": call.call_id})
        conversation = asyncio.create_task(handler(call))
        player = asyncio.create_task(call.play())
        try:
            async for message in socket:
                if isinstance(message, bytes):
                    call.receive_audio(message)
                    continue
                try:
                    event = json.loads(message)
                except ValueError:
                    continue
                if not isinstance(event, dict):
                    continue
                digit = str(event.get("digit", ""))
                if event.get("type") == "dtmf" and len(digit) == 1 and digit in DTMF_KEYS:
                    if call.events.qsize() < MAX_QUEUED_EVENTS:
                        call.events.put_nowait(DTMFFrame(digit))
                elif event.get("type") == "hangup":
                    break
        except ConnectionClosed:
            pass
        finally:
            call.closed = True
            call.events.put_nowait(HangUpFrame("caller"))
            await asyncio.gather(conversation, return_exceptions=True)
            player.cancel()
            await asyncio.gather(player, return_exceptions=True)
            self.calls.discard(call)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
