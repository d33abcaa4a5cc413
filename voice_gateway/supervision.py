"""The call's supervisor, just before the speaker: silences, the longest call length, refused transfers.

After the bot has finished speaking, a caller who stays silent for the
configured time hears a reprompt; at the last silence, a polite goodbye, and
the call is hung up. A call that reaches the longest length allowed
(`max_call_seconds`) gets a goodbye too, and is hung up even if the goodbye
cannot be said. A transfer the line refused (`TransferFailedFrame`, back
from the call's output) is told to the caller, who is offered the dialogue's
callback request. When the gateway process stops (`ShutdownFrame`), the bot
stops speaking, apologises and hangs up. The supervisor says all this by
pushing frames on to the speaker, and hangs up by pushing an `EndCallFrame`
(or a goodbye that ends with a hang-up) to the call's output.
"""

from __future__ import annotations

import asyncio
import logging
import time

from core.metrics import count_error
from voice_gateway import messages
from voice_gateway.context import CallContext
from voice_gateway.dialogue import DialogueError
from voice_gateway.frames import BotTextFrame, EndCallFrame, Frame, InterruptionFrame, ShutdownFrame, TransferFailedFrame
from voice_gateway.pipeline import FrameProcessor

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.1
GOODBYE_GRACE_SECONDS = 30.0  # at the longest length, time left for the goodbye before the hang-up regardless
CALLBACK_FORM = "callback_form"  # the dialogue's callback request (name, phone number, reason)


class CallSupervisor(FrameProcessor):
    def __init__(self, ctx: CallContext) -> None:
        super().__init__()
        self.ctx = ctx
        self._watches: list[asyncio.Task] = []

    def start(self) -> None:
        super().start()
        self._watches = [
            asyncio.create_task(self._watch_silence(), name="silence"),
            asyncio.create_task(self._watch_length(), name="length"),
        ]

    async def stop(self) -> None:
        for watch in self._watches:
            watch.cancel()
        await asyncio.gather(*self._watches, return_exceptions=True)
        await super().stop()

    async def process_upstream_frame(self, frame: Frame) -> None:
        if isinstance(frame, TransferFailedFrame):
            self._queue.put_nowait(frame)  # answered in this processor's own task, not the output's
        else:
            await self.push_upstream(frame)

    async def process_frame(self, frame: Frame) -> None:
        if isinstance(frame, TransferFailedFrame):
            await self._transfer_failed(frame)
        elif isinstance(frame, ShutdownFrame):
            logger.info("call %s: the gateway stops: apology, then hang-up", self.ctx.call_id)
            await self.push_frame(InterruptionFrame())  # what the bot was saying stops here
            await self.push_frame(BotTextFrame(messages.SHUTDOWN, then_hang_up=True))
        else:
            await self.push_frame(frame)

    async def _transfer_failed(self, frame: TransferFailedFrame) -> None:
        ctx = self.ctx
        logger.warning("call %s: transfer to %s failed: the caller is offered a callback", ctx.call_id, frame.target)
        count_error("transfer")
        await self.push_frame(BotTextFrame(messages.TRANSFER_FAILED))
        try:
            answer = await ctx.engines.dialogue.run_action(ctx.call_id, CALLBACK_FORM)
        except DialogueError as exc:
            logger.error("call %s: no callback form: %s", ctx.call_id, exc)
            count_error("dialogue")
            answer = [{"text": messages.NO_CALLBACK}]
        for message in answer:
            if (message.get("text") or "").strip():
                await self.push_frame(BotTextFrame(message["text"].strip()))

    async def _watch_length(self) -> None:
        ctx = self.ctx
        await asyncio.sleep(max(0.0, ctx.behaviour.max_call_seconds - (time.monotonic() - ctx.started)))
        if ctx.ending:
            return
        logger.info("call %s: longest call length reached", ctx.call_id)
        await self.push_frame(BotTextFrame(messages.GOODBYE_TOO_LONG, then_hang_up=True))
        await asyncio.sleep(GOODBYE_GRACE_SECONDS)
        if not ctx.ending:
            await self.push_frame(EndCallFrame("longest call length"))

    async def _watch_silence(self) -> None:
        ctx = self.ctx
        behaviour = ctx.behaviour
        was_active = False
        while not ctx.ending:
            await asyncio.sleep(POLL_SECONDS)
            active = ctx.caller_speaking or ctx.bot_speaking or ctx.busy > 0
            if active or was_active:
                ctx.touch()
            was_active = active
            if active or time.monotonic() - ctx.last_activity < behaviour.silence_timeout:
                continue
            ctx.silences += 1
            ctx.touch()
            logger.info("call %s: silence %d", ctx.call_id, ctx.silences)
            if ctx.silences < behaviour.max_silences:
                await self.push_frame(BotTextFrame(messages.REPROMPT))
            else:
                await self.push_frame(BotTextFrame(messages.GOODBYE_SILENCE, then_hang_up=True))
                return
