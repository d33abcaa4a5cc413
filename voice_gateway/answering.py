"""The dialogue step: the caller's words (or keys) go to Rasa, the bot's answers come back as frames.

- The call starts with the assistant's own greeting (`/greet`).
- Key 0 asks for a human at any time (`/request_human`).
- Emergency answers (`utter_emergency`) are said first, and slowly.
- A `handover` payload becomes a transfer to the service's extension.
- If Rasa cannot be reached, the caller hears an apology; the call goes on.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from core.logs import shown
from core.metrics import count_error
from voice_gateway import messages
from voice_gateway.context import CallContext
from voice_gateway.dialogue import DialogueError
from voice_gateway.frames import (
    BotTextFrame,
    DTMFFrame,
    Frame,
    InterruptionFrame,
    StartFrame,
    TranscriptFrame,
    TransferFrame,
)
from voice_gateway.pipeline import FrameProcessor

logger = logging.getLogger(__name__)

EMERGENCY_RESPONSES = ("utter_emergency",)
GOODBYE_RESPONSES = ("utter_goodbye",)


class DialogueProcessor(FrameProcessor):
    error_component = "dialogue"

    def __init__(self, ctx: CallContext) -> None:
        super().__init__()
        self.ctx = ctx

    async def queue_frame(self, frame: Frame) -> None:
        # Keys are read at once, even while a question is waiting for its answer.
        if isinstance(frame, DTMFFrame):
            logger.info("call %s: key %s", self.ctx.call_id, shown(frame.digit))
            if frame.digit == "0":
                self.ctx.turn += 1
                await self.push_frame(InterruptionFrame())
                self._queue.put_nowait(TranscriptFrame("/request_human"))
            return
        await super().queue_frame(frame)

    async def process_frame(self, frame: Frame) -> None:
        if isinstance(frame, StartFrame):
            await self._ask("/greet", frame)
        elif isinstance(frame, TranscriptFrame):
            self.ctx.silences = 0
            self.ctx.turn += 1
            await self._ask(frame.text, frame)
        else:
            await self.push_frame(frame)

    async def _ask(self, text: str, frame: Frame) -> None:
        ctx = self.ctx
        turn = ctx.turn
        ctx.busy += 1
        asked = time.monotonic()
        try:
            metadata = {"caller": ctx.caller} if ctx.caller else {}
            answer = await ctx.engines.dialogue.send(ctx.call_id, text, metadata)
        except DialogueError as exc:
            logger.error("call %s: %s", ctx.call_id, exc)
            count_error("dialogue")
            answer = [{"text": messages.DIALOGUE_DOWN}]
        finally:
            ctx.busy -= 1
            ctx.touch()
        if turn != ctx.turn:  # the caller spoke again meanwhile: this answer is stale
            return
        if isinstance(frame, TranscriptFrame) and frame.end_of_speech:
            ctx.pending_times[turn] = (frame.text, frame.end_of_speech, frame.recognised_at, time.monotonic())
        logger.info("call %s: dialogue answered in %.0f ms", ctx.call_id, (time.monotonic() - asked) * 1000)
        for out in self._frames(answer, turn):
            await self.push_frame(out)

    def _frames(self, answer: list[dict[str, Any]], turn: int) -> list[Frame]:
        emergency = [m for m in answer if m.get("response") in EMERGENCY_RESPONSES]
        ordered = emergency + [m for m in answer if m not in emergency]
        frames: list[Frame] = []
        for message in ordered:
            text = (message.get("text") or "").strip()
            if text:
                frames.append(BotTextFrame(
                    text, slow=message.get("response") in EMERGENCY_RESPONSES,
                    then_hang_up=message.get("response") in GOODBYE_RESPONSES, turn=turn,
                ))
            handover = (message.get("custom") or {}).get("handover")
            if isinstance(handover, dict):
                frames.append(self._transfer(handover))
        return frames

    def _transfer(self, handover: dict[str, Any]) -> Frame:
        service = str(handover.get("service") or "")
        targets = self.ctx.behaviour.transfer_targets
        target = targets.get(service) or self.ctx.behaviour.transfer_default
        if not target:
            logger.warning("call %s: no extension configured for service %r", self.ctx.call_id, service)
        return TransferFrame(service=service, target=target or "", summary=str(handover.get("summary") or ""))
