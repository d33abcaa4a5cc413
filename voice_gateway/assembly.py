"""The processors of one call's pipeline, in order, from the caller's audio to the call's line."""

from __future__ import annotations

from voice_gateway.answering import DialogueProcessor
from voice_gateway.context import CallContext
from voice_gateway.listening import Listener
from voice_gateway.output import CallOutput
from voice_gateway.pipeline import Pipeline
from voice_gateway.speaking import Speaker
from voice_gateway.supervision import CallSupervisor
from voice_gateway.transport import CallConnection
from voice_gateway.turns import TurnDetector


def build_pipeline(ctx: CallContext, connection: CallConnection) -> Pipeline:
    """End of turn and barge-in, recognition, the dialogue, the supervisor, synthesis, then the only processor
    that acts on the line (`CallOutput`), which tells the others what the caller has still to hear."""
    output = CallOutput(ctx, connection)
    ctx.bot_audio = output
    return Pipeline([TurnDetector(ctx), Listener(ctx), DialogueProcessor(ctx), CallSupervisor(ctx), Speaker(ctx), output])
