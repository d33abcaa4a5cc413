"""The frames a call's pipeline carries: small typed messages between processors.

Audio inside the gateway is always 16 kHz mono PCM16 (little-endian), in
20 ms frames on the way in; the transports convert at the edge.

Two kinds of frames, as in Pipecat: *system* frames (start, interruption,
hang-up, DTMF, notifications) are handled at once and survive a barge-in;
*data* frames (audio, transcripts, bot text) keep their order and are dropped
by an interruption when they belong to the bot's turn. Most frames flow
downstream, from the caller's audio to the call's output; a few flow back
upstream (a transfer the line refused).
"""

from __future__ import annotations

from dataclasses import dataclass

SAMPLE_RATE = 16000
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000 * 2  # 640 bytes of PCM16


@dataclass
class Frame:
    """Base of every frame."""


@dataclass
class SystemFrame(Frame):
    """Handled before any queued data frame, never dropped by an interruption."""


@dataclass
class DataFrame(Frame):
    """Ordered; the bot's data frames are dropped when the caller talks over the bot."""


# --- system frames -----------------------------------------------------------------------------

@dataclass
class StartFrame(SystemFrame):
    """The call is answered."""

    call_id: str
    caller: str = ""


@dataclass
class InterruptionFrame(SystemFrame):
    """The caller started talking while the bot was speaking: stop the bot's turn."""


@dataclass
class DTMFFrame(SystemFrame):
    """A key pressed on the phone."""

    digit: str


@dataclass
class HangUpFrame(SystemFrame):
    """The call ends (the caller hung up, or the bot decided to)."""

    reason: str = ""


@dataclass
class EndCallFrame(SystemFrame):
    """The bot hangs up now, whatever is still queued (the call's longest length is past)."""

    reason: str = ""


@dataclass
class ShutdownFrame(SystemFrame):
    """The gateway process is stopping: the bot stops speaking, apologises and hangs up."""


@dataclass
class NotificationFrame(SystemFrame):
    """An event for the far end (what was heard, what the bot says, where an answer's time went)."""

    event: dict


@dataclass
class TransferFailedFrame(SystemFrame):
    """Upstream, from the call's output: the line refused the transfer, or nobody answered."""

    service: str
    target: str


# --- data frames -------------------------------------------------------------------------------

@dataclass
class AudioInFrame(DataFrame):
    """20 ms of the caller's audio."""

    pcm: bytes


@dataclass
class SpeechStoppedFrame(DataFrame):
    """End of turn: the caller stopped talking. `at` is the monotonic time of the last voiced frame."""

    at: float = 0.0


@dataclass
class TranscriptFrame(DataFrame):
    """What the recogniser heard: one utterance of the caller."""

    text: str
    end_of_speech: float = 0.0
    recognised_at: float = 0.0


@dataclass
class BotTextFrame(DataFrame):
    """A sentence or a message the bot says. `slow` asks for a slower voice (emergencies).

    After the speaker, it follows the text's audio: the end of what the caller has to hear of it."""

    text: str
    slow: bool = False
    then_hang_up: bool = False
    turn: int = 0


@dataclass
class AudioOutFrame(DataFrame):
    """The bot's synthesised audio, for the caller to hear."""

    pcm: bytes


@dataclass
class TransferFrame(DataFrame):
    """The dialogue hands the call over: a SIP REFER to `target` carrying the summary."""

    service: str
    target: str
    summary: str = ""
