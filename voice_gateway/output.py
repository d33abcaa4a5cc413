"""The end of every call's pipeline, and the only processor that acts on the call's line.

It writes the bot's audio into the line's playout and empties it on an
interruption, passes notifications on to the far end, and hangs up or
transfers once the caller has heard the words before (a goodbye, "ne quittez
pas"). A transfer the line refuses goes back upstream as a
`TransferFailedFrame`, for the supervisor to offer a callback.
"""

from __future__ import annotations

import asyncio
import logging

from voice_gateway.context import CallContext
from voice_gateway.frames import (
    FRAME_BYTES,
    FRAME_MS,
    AudioOutFrame,
    BotTextFrame,
    EndCallFrame,
    Frame,
    InterruptionFrame,
    NotificationFrame,
    TransferFailedFrame,
    TransferFrame,
)
from voice_gateway.pipeline import FrameProcessor
from voice_gateway.transport import CallConnection

logger = logging.getLogger(__name__)

HEARD_POLL_SECONDS = 0.02


class CallOutput(FrameProcessor):
    """Plays, notifies, transfers and hangs up; tells the others what the caller has still to hear (`BotAudio`)."""

    def __init__(self, ctx: CallContext, connection: CallConnection) -> None:
        super().__init__()
        self.ctx = ctx
        self.connection = connection
        self._queued_audio = 0  # bytes of the bot's audio waiting in this processor's queue

    @property
    def speaking(self) -> bool:
        return self._queued_audio > 0 or self.connection.playout.active

    @property
    def ahead_ms(self) -> float:
        return self.connection.playout.pending_ms + self._queued_audio / FRAME_BYTES * FRAME_MS

    async def queue_frame(self, frame: Frame) -> None:
        if isinstance(frame, AudioOutFrame):
            self._queued_audio += len(frame.pcm)
        await super().queue_frame(frame)

    async def process_frame(self, frame: Frame) -> None:
        playout = self.connection.playout
        if isinstance(frame, InterruptionFrame):
            self._queued_audio = 0  # the queue has just lost the bot's audio
            playout.clear()
        elif isinstance(frame, AudioOutFrame):
            self._queued_audio -= len(frame.pcm)
            playout.write(frame.pcm, more_coming=True)
        elif isinstance(frame, NotificationFrame):
            self.connection.notify(frame.event)
        elif isinstance(frame, BotTextFrame):
            playout.finish()  # the speaker passes the text on once its audio is all written
            if frame.then_hang_up:
                await self._heard()
                await self._hang_up("goodbye")
        elif isinstance(frame, TransferFrame):
            await self._heard()
            await self._transfer(frame)
        elif isinstance(frame, EndCallFrame):
            await self._hang_up(frame.reason)
        else:
            await self.push_frame(frame)

    async def _heard(self) -> None:
        """Wait until the caller has heard everything written to the line."""
        while self.connection.playout.active and not self.ctx.ending:
            await asyncio.sleep(HEARD_POLL_SECONDS)

    async def _transfer(self, frame: TransferFrame) -> None:
        logger.info("call %s: transfer to %s (%s)", self.ctx.call_id, frame.target, frame.service)
        if frame.target and await self.connection.transfer(frame.target, frame.summary):
            self.ctx.ending = True
            return
        await self.push_upstream(TransferFailedFrame(frame.service, frame.target))

    async def _hang_up(self, reason: str) -> None:
        logger.info("call %s: the bot hangs up (%s)", self.ctx.call_id, reason)
        self.ctx.ending = True
        await self.connection.hang_up()
