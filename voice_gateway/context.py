"""What the processors of one call share: how calls are conducted, the engines, and the call's state."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional, Protocol

from voice_gateway.dialogue import Dialogue
from voice_gateway.recognition import SpeechToText
from voice_gateway.synthesis import TextToSpeech


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


class BotAudio(Protocol):
    """What the caller has still to hear of the bot, as the call's output (`output.CallOutput`) knows it."""

    @property
    def speaking(self) -> bool: ...

    @property
    def ahead_ms(self) -> float: ...


class NoBotAudio:
    """Before a call's output is attached: the bot is silent."""

    speaking = False
    ahead_ms = 0.0


@dataclass
class CallContext:
    """What the processors of one call share. None of them holds the call's line: only its output does."""

    call_id: str
    caller: str
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
    bot_audio: BotAudio = field(default_factory=NoBotAudio)

    def touch(self) -> None:
        self.last_activity = time.monotonic()

    @property
    def bot_speaking(self) -> bool:
        return self.bot_audio.speaking
