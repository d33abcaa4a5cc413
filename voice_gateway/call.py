"""One call: its pipeline (`assembly.py`), fed the caller's events until the caller or the bot hangs up."""

from __future__ import annotations

import logging
import time

from core.logs import shown
from voice_gateway.assembly import build_pipeline
from voice_gateway.context import CallBehaviour, CallContext, Engines
from voice_gateway.frames import HangUpFrame, StartFrame
from voice_gateway.transport import CallConnection

logger = logging.getLogger(__name__)


async def run_call(connection: CallConnection, engines: Engines, behaviour: CallBehaviour) -> None:
    """Conduct one call until the caller or the bot hangs up."""
    ctx = CallContext(connection.call_id, connection.caller, behaviour, engines)
    pipeline = build_pipeline(ctx, connection)
    pipeline.start()
    started = time.monotonic()
    logger.info("call %s from %s: answered", connection.call_id, shown(connection.caller))
    reason = "?"
    try:
        await pipeline.queue_frame(StartFrame(connection.call_id, connection.caller))
        while True:
            frame = await connection.events.get()
            if isinstance(frame, HangUpFrame):
                reason = frame.reason or "hang-up"
                break
            await pipeline.queue_frame(frame)
    finally:
        ctx.ending = True
        await pipeline.stop()
        connection.playout.clear()
        logger.info("call %s ended (%s) after %.1f s, %d answers", connection.call_id, reason, time.monotonic() - started, ctx.turn)

