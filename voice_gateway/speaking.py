"""Synthesis of the bot's answers into audio frames, sentence by sentence.

Each answer is cut into sentences (the first one also at its first pause), and
synthesis stays a little ahead of what the caller hears. An interruption
cancels the synthesis in progress (the call's output empties the playout);
each text goes on after its audio, for the output to act on what follows it
(a transfer, a hang-up) once it has been heard.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Optional

from core.logs import shown
from core.metrics import count_error, instruments
from voice_gateway.context import CallContext, TurnTimes
from voice_gateway.frames import AudioOutFrame, BotTextFrame, Frame, InterruptionFrame, NotificationFrame
from voice_gateway.pipeline import FrameProcessor
from voice_gateway.synthesis import SynthesisError, speech_pieces

logger = logging.getLogger(__name__)

AHEAD_MS = 2500  # synthesised audio kept ahead of what the caller has heard


class Speaker(FrameProcessor):
    error_component = "synthesis"

    def __init__(self, ctx: CallContext) -> None:
        super().__init__()
        self.ctx = ctx
        self._current: Optional[asyncio.Task] = None

    async def process_frame(self, frame: Frame) -> None:
        if isinstance(frame, InterruptionFrame):
            if self._current is not None:
                self._current.cancel()
            await self.push_frame(frame)
        elif isinstance(frame, BotTextFrame):
            if frame.turn and frame.turn != self.ctx.turn:
                return
            self._current = asyncio.create_task(self._speak(frame))
            await asyncio.wait({self._current})
            interrupted = self._current.cancelled()
            self._current = None
            if not interrupted:
                await self.push_frame(frame)
        else:
            await self.push_frame(frame)

    async def _speak(self, frame: BotTextFrame) -> None:
        ctx = self.ctx
        logger.info("call %s: says %s", ctx.call_id, shown(frame.text))
        await self.push_frame(NotificationFrame({"type": "bot", "text": frame.text, "slow": frame.slow}))
        ctx.busy += 1
        started = time.monotonic()
        first = True
        try:
            for piece in speech_pieces(frame.text):
                # Synthesis stays a few seconds ahead of the caller's ear: an answer cut short by
                # the caller costs no more than that, and the other calls get the CPU.
                while ctx.bot_audio.ahead_ms > AHEAD_MS:
                    await asyncio.sleep(0.05)
                async for pcm in ctx.engines.tts.synthesize(piece, slow=frame.slow):
                    if frame.turn and frame.turn != ctx.turn:
                        return
                    await self.push_frame(AudioOutFrame(pcm))
                    if first:
                        first = False
                        await self._report(frame.turn, started)
        except SynthesisError as exc:
            logger.error("call %s: synthesis failed: %s", ctx.call_id, exc)
            count_error("synthesis")
        finally:
            ctx.busy -= 1

    async def _report(self, turn: int, started: float) -> None:
        pending = self.ctx.pending_times.pop(turn, None)
        if pending is None:
            return
        heard, end_of_speech, recognised_at, answered_at = pending
        now = time.monotonic()
        times = TurnTimes(
            turn=turn, heard=heard, recognition=recognised_at - end_of_speech, dialogue=answered_at - recognised_at,
            synthesis=now - started, total=now - end_of_speech,
        )
        logger.info("call %s: turn %s", self.ctx.call_id, {**times.as_dict(), "heard": shown(times.heard)})
        instruments().voice_response_seconds.observe(times.total)
        await self.push_frame(NotificationFrame({"type": "turn", **times.as_dict()}))
