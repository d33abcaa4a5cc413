"""Voice activity and end of turn (WebRTC VAD), and barge-in.

The caller's audio goes on to recognition only while he speaks (with 200 ms
of audio from before the start, so the first syllable is kept). Speech that
starts while the bot is talking interrupts the bot.
"""

from __future__ import annotations

import collections
import time

import webrtcvad

from voice_gateway.context import CallContext
from voice_gateway.frames import (
    FRAME_BYTES,
    FRAME_MS,
    SAMPLE_RATE,
    AudioInFrame,
    Frame,
    InterruptionFrame,
    SpeechStoppedFrame,
)
from voice_gateway.pipeline import FrameProcessor

START_FRAMES = 4  # voiced frames among the last START_WINDOW to call it speech (80 ms)
START_WINDOW = 6
PRE_ROLL_FRAMES = 10


class TurnDetector(FrameProcessor):
    def __init__(self, ctx: CallContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.vad = webrtcvad.Vad(ctx.behaviour.vad_aggressiveness)
        self.recent = collections.deque(maxlen=START_WINDOW)
        self.pre_roll: collections.deque[bytes] = collections.deque(maxlen=PRE_ROLL_FRAMES)
        self.speaking = False
        self.silent_ms = 0
        self.last_voiced = 0.0
        self.end_of_turn_ms = ctx.behaviour.end_of_turn_ms

    async def process_frame(self, frame: Frame) -> None:
        if not isinstance(frame, AudioInFrame):
            await self.push_frame(frame)
            return
        pcm = frame.pcm
        if len(pcm) != FRAME_BYTES:
            return
        voiced = self.vad.is_speech(pcm, SAMPLE_RATE)
        now = time.monotonic()
        if voiced:
            self.last_voiced = now
        if not self.speaking:
            self.recent.append(voiced)
            self.pre_roll.append(pcm)
            if sum(self.recent) >= START_FRAMES:
                await self._speech_started()
            return
        await self.push_frame(frame)
        self.silent_ms = 0 if voiced else self.silent_ms + FRAME_MS
        if self.silent_ms >= self.end_of_turn_ms:
            self.speaking = False
            self.ctx.caller_speaking = False
            self.ctx.touch()
            self.recent.clear()
            await self.push_frame(SpeechStoppedFrame(at=self.last_voiced))

    async def _speech_started(self) -> None:
        self.speaking = True
        self.silent_ms = 0
        self.ctx.caller_speaking = True
        self.ctx.touch()
        if self.ctx.behaviour.barge_in and self.ctx.bot_speaking:
            # A system frame goes straight to the call's output: the bot's audio stops before recognition starts.
            self.ctx.turn += 1
            await self.push_frame(InterruptionFrame())
        for pcm in self.pre_roll:
            await self.push_frame(AudioInFrame(pcm))
        self.pre_roll.clear()
