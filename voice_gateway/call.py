"""One phone call: its shared state, its pipeline, and the loop that feeds it the caller's events."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from core.logs import shown
from voice_gateway.dialogue import Dialogue
from voice_gateway.frames import Frame, HangUpFrame, StartFrame
from voice_gateway.pipeline import Pipeline
from voice_gateway.recognition import SpeechToText
from voice_gateway.synthesis import TextToSpeech
from voice_gateway.transport import CallConnection

logger = logging.getLogger(__name__)


@dataclass
class CallBehaviour:
    """How calls are conducted (from the settings)."""

    end_of_turn_ms: int = 300
    vad_aggressiveness: int = 2
    barge_in: bool = True
    silence_timeout: float = 6.0
    max_silences: int = 2
    max_call_seconds: float = 900.0
    transfer_targets: dict[str, str] = field(default_factory=dict)
    transfer_default: Optional[str] = None


@dataclass
class Engines:
    """Shared by every call: one recognition model, one synthesis worker, one dialogue client."""

    stt: SpeechToText
    tts: TextToSpeech
    dialogue: Dialogue


@dataclass
class TurnTimes:
    """Where the time of one answer went (seconds), reported to logs, transports and the benchmark."""

    turn: int
    heard: str
    recognition: float
    dialogue: float
    synthesis: float
    total: float

    def as_dict(self) -> dict:
        return {k: (round(v * 1000) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass
class CallContext:
    """What the processors of one call share."""

    connection: CallConnection
    behaviour: CallBehaviour
    engines: Engines
    turn: int = 0
    caller_speaking: bool = False
    busy: int = 0  # dialogue requests and syntheses in progress
    silences: int = 0
    started: float = field(default_factory=time.monotonic)
    last_activity: float = field(default_factory=time.monotonic)
    ending: bool = False
    pending_times: dict = field(default_factory=dict)
    say: Optional[Callable[[Frame], "asyncio.Future"]] = None

    @property
    def call_id(self) -> str:
        return self.connection.call_id

    def touch(self) -> None:
        self.last_activity = time.monotonic()

    @property
    def bot_speaking(self) -> bool:
        return self.connection.playout.active


def build_pipeline(ctx: CallContext) -> Pipeline:
    from voice_gateway.answering import DialogueProcessor
    from voice_gateway.listening import Listener
    from voice_gateway.speaking import Speaker
    from voice_gateway.supervision import CallSupervisor
    from voice_gateway.turns import TurnDetector

    speaker = Speaker(ctx)
    ctx.say = speaker.queue_frame
    return Pipeline([TurnDetector(ctx), Listener(ctx), DialogueProcessor(ctx), speaker, CallSupervisor(ctx)])


async def run_call(connection: CallConnection, engines: Engines, behaviour: CallBehaviour) -> None:
    """Conduct one call until the caller or the bot hangs up."""
    ctx = CallContext(connection, behaviour, engines)
    pipeline = build_pipeline(ctx)
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

