"""Recognition of the caller's utterances: one streaming recogniser per call."""

from __future__ import annotations

import logging
import time

from core.logs import shown
from voice_gateway.context import CallContext
from voice_gateway.frames import AudioInFrame, Frame, NotificationFrame, SpeechStoppedFrame, TranscriptFrame
from voice_gateway.pipeline import FrameProcessor

logger = logging.getLogger(__name__)


class Listener(FrameProcessor):
    error_component = "recognition"

    def __init__(self, ctx: CallContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.recognizer = ctx.engines.stt.recognizer()

    async def process_frame(self, frame: Frame) -> None:
        if isinstance(frame, AudioInFrame):
            await self.recognizer.accept(frame.pcm)
        elif isinstance(frame, SpeechStoppedFrame):
            text = await self.recognizer.final()
            logger.info("call %s: heard %s", self.ctx.call_id, shown(text))
            await self.push_frame(NotificationFrame({"type": "heard", "text": text}))
            if text:
                await self.push_frame(TranscriptFrame(text, end_of_speech=frame.at, recognised_at=time.monotonic()))
        else:
            await self.push_frame(frame)
