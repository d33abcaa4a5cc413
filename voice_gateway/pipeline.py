"""A pipeline of small processors, in the spirit of Pipecat.

Each processor does one thing with the frames it gets and pushes frames on
to the next one. Data frames wait in the processor's queue and are handled
in order by its own task; system frames (start, interruption, DTMF, hang-up)
skip the queue. An interruption drops the queued frames of the bot's turn
(bot text, its audio, transfers), so barge-in stays simple. The last
processor (`output.CallOutput`) is the only one that acts on the call's line;
what it has to tell the others (a refused transfer) goes back upstream,
handled at once by each processor on the way. A
processor that falls behind the caller's audio (more than MAX_QUEUED_AUDIO
frames waiting) drops the newest audio rather than let its queue grow.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Iterable, Optional

from core.metrics import count_error
from voice_gateway.frames import (
    AudioInFrame, AudioOutFrame, BotTextFrame, DataFrame, Frame, InterruptionFrame, SystemFrame, TransferFrame,
)

logger = logging.getLogger(__name__)

BOT_TURN_FRAMES = (BotTextFrame, AudioOutFrame, TransferFrame)
MAX_QUEUED_AUDIO = 500  # 10 s of the caller's audio


class FrameProcessor:
    """One step of a call's pipeline. Subclasses override `process_frame` and call `push_frame`."""

    error_component = "voice"  # what its failures count as (`accueil_errors_total`)

    def __init__(self) -> None:
        self.next: Optional[FrameProcessor] = None
        self.previous: Optional[FrameProcessor] = None
        self._queue: asyncio.Queue[DataFrame] = asyncio.Queue()
        self._task: Optional[asyncio.Task] = None
        self.dropped_audio = 0

    @property
    def name(self) -> str:
        return type(self).__name__

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def queue_frame(self, frame: Frame) -> None:
        if isinstance(frame, SystemFrame):
            if isinstance(frame, InterruptionFrame):
                self._drop_bot_turn()
            await self._process_safely(frame)
        elif isinstance(frame, AudioInFrame) and self._queue.qsize() >= MAX_QUEUED_AUDIO:
            self.dropped_audio += 1
        else:
            self._queue.put_nowait(frame)

    def _drop_bot_turn(self) -> None:
        kept = []
        while not self._queue.empty():
            frame = self._queue.get_nowait()
            if not isinstance(frame, BOT_TURN_FRAMES):
                kept.append(frame)
        for frame in kept:
            self._queue.put_nowait(frame)

    async def _run(self) -> None:
        while True:
            frame = await self._queue.get()
            await self._process_safely(frame)

    async def _process_safely(self, frame: Frame, upstream: bool = False) -> None:
        """One frame through `process_frame` (or `process_upstream_frame`): one bad frame must not end the call."""
        try:
            await (self.process_upstream_frame if upstream else self.process_frame)(frame)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("%s failed on %s%s", self.name, type(frame).__name__, " (upstream)" if upstream else "")
            count_error(self.error_component)

    async def process_frame(self, frame: Frame) -> None:
        await self.push_frame(frame)

    async def push_frame(self, frame: Frame) -> None:
        if self.next is not None:
            await self.next.queue_frame(frame)

    async def queue_upstream(self, frame: Frame) -> None:
        """A frame coming back from the processor after this one: handled at once, in the sender's task."""
        await self._process_safely(frame, upstream=True)

    async def process_upstream_frame(self, frame: Frame) -> None:
        await self.push_upstream(frame)

    async def push_upstream(self, frame: Frame) -> None:
        if self.previous is not None:
            await self.previous.queue_upstream(frame)


class Pipeline:
    """Processors linked in order; frames go in at the head."""

    def __init__(self, processors: Iterable[FrameProcessor]) -> None:
        self.processors = list(processors)
        for current, following in zip(self.processors, self.processors[1:]):
            current.next = following
            following.previous = current

    def start(self) -> None:
        for processor in self.processors:
            processor.start()

    async def queue_frame(self, frame: Frame) -> None:
        await self.processors[0].queue_frame(frame)

    async def stop(self) -> None:
        for processor in self.processors:
            await processor.stop()
