"""What a transport gives the pipeline: one `CallConnection` per call.

A transport (SIP in `sip_transport.py`, WebSocket in `websocket_transport.py`)
only moves audio and call events. It converts the line's format to the
gateway's 16 kHz PCM16 at the edge, puts the caller's events in `events`
(AudioInFrame every 20 ms, DTMFFrame, HangUpFrame once) and plays what the
call's output (`output.py`, the pipeline's last processor) writes into
`playout`, 20 ms at a time, at the line's pace.
"""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from typing import Awaitable, Callable

from voice_gateway.frames import FRAME_BYTES, Frame

SILENCE = bytes(FRAME_BYTES)


class PlayoutBuffer:
    """The bot's audio waiting to be played; read 20 ms at a time by the transport's clock.

    Thread-safe: PJSIP reads it from its media thread. An *underrun* is a read
    that finds the buffer short while the bot is in the middle of an answer
    (synthesis did not keep up), which the caller hears as a gap.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data = bytearray()
        self._more = False  # the bot is mid-answer: more audio is on its way
        self.underruns = 0
        self.frames_played = 0

    def write(self, pcm: bytes, *, more_coming: bool) -> None:
        with self._lock:
            self._data += pcm
            self._more = more_coming

    def finish(self) -> None:
        """No more audio for this answer: running dry from now on is the end, not an underrun."""
        with self._lock:
            self._more = False

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._more = False

    @property
    def pending_ms(self) -> float:
        with self._lock:
            return len(self._data) / FRAME_BYTES * 20

    @property
    def active(self) -> bool:
        """True while the bot has audio queued or more is expected."""
        with self._lock:
            return self._more or bool(self._data)

    def read_frame(self) -> bytes:
        with self._lock:
            if not self._data:
                if self._more:
                    self.underruns += 1
                return SILENCE
            chunk = bytes(self._data[:FRAME_BYTES])
            del self._data[:FRAME_BYTES]
            self.frames_played += 1
        if len(chunk) < FRAME_BYTES:
            chunk += bytes(FRAME_BYTES - len(chunk))
        return chunk


class CallConnection(ABC):
    """One call as the pipeline sees it."""

    transport_name = "?"  # `sip` or `websocket`, for the calls' metrics

    def __init__(self, call_id: str, caller: str, loop: asyncio.AbstractEventLoop) -> None:
        self.call_id = call_id
        self.caller = caller
        self.loop = loop
        self.events: asyncio.Queue[Frame] = asyncio.Queue()
        self.playout = PlayoutBuffer()

    def post_event(self, frame: Frame) -> None:
        """Hand an event to the pipeline from any thread (PJSIP's callbacks run on its own threads)."""
        self.loop.call_soon_threadsafe(self.events.put_nowait, frame)

    def notify(self, event: dict) -> None:
        """Tell the far end what happened (transcripts, answers, timings), when the transport can."""

    @abstractmethod
    async def transfer(self, target: str, summary: str) -> bool:
        """Hand the call to `target` (a SIP URI or extension) with the summary; True if it was accepted."""

    @abstractmethod
    async def hang_up(self) -> None:
        """End the call from the gateway's side."""


CallHandler = Callable[[CallConnection], Awaitable[None]]
"""What a transport calls for each new call; returns when the call is over."""
