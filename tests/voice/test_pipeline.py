"""The call's pipeline, one processor or a few at a time (`run_processor`), with stand-in engines and line:
barge-in, dropping the bot's turn, the call's output, and that only the output acts on the line."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import AsyncIterator

from tests.test_architecture import imported_modules
from tests.voice.pipeline_harness import Line, Sleep, Upstream, call_context, run_processor
from voice_gateway import messages
from voice_gateway.context import Engines
from voice_gateway.dialogue import Dialogue
from voice_gateway.frames import (
    FRAME_BYTES,
    AudioInFrame,
    AudioOutFrame,
    BotTextFrame,
    InterruptionFrame,
    TranscriptFrame,
    TransferFailedFrame,
    TransferFrame,
)
from voice_gateway.output import CallOutput
from voice_gateway.pipeline import FrameProcessor
from voice_gateway.speaking import Speaker
from voice_gateway.supervision import CALLBACK_FORM, CallSupervisor
from voice_gateway.synthesis import TextToSpeech
from voice_gateway.turns import TurnDetector

VOICE_GATEWAY = Path(__file__).resolve().parents[2] / "voice_gateway"
PROCESSORS = ("turns", "listening", "answering", "supervision", "speaking")
ONE_SECOND = bytes(FRAME_BYTES * 50)
LONG_ANSWER = "Un. Deux. Trois. Quatre. Cinq. Six."


class OneSecondASentence(TextToSpeech):
    async def synthesize(self, text: str, slow: bool = False) -> AsyncIterator[bytes]:
        await asyncio.sleep(0.01)
        yield ONE_SECOND


class AlwaysVoiced:
    def is_speech(self, pcm: bytes, rate: int) -> bool:
        return True


class CallbackForm(Dialogue):
    def __init__(self) -> None:
        self.actions: list[str] = []

    async def send(self, sender, text, metadata=None):
        return []

    async def run_action(self, sender, action):
        self.actions.append(action)
        return [{"text": "Quel est votre nom ?"}]


def engines(dialogue: Dialogue | None = None) -> Engines:
    return Engines(stt=None, tts=OneSecondASentence(), dialogue=dialogue)


def output_for(ctx, line: Line) -> CallOutput:
    output = CallOutput(ctx, line)
    ctx.bot_audio = output
    return output


def bot_notes(line: Line) -> list[str]:
    return [n["text"] for n in line.notes if n.get("type") == "bot"]


def test_caller_speech_over_the_bot_stops_its_audio_and_drops_the_rest_of_its_turn() -> None:
    async def main():
        ctx, line = call_context(engines()), Line()
        ctx.turn = 1
        detector = TurnDetector(ctx)
        detector.vad = AlwaysVoiced()
        bot_turn = [BotTextFrame(LONG_ANSWER, turn=1), BotTextFrame("Autre chose ?", turn=1), TransferFrame("facturation", "2004")]
        out, _ = await run_processor(
            [detector, Speaker(ctx), output_for(ctx, line)], [*bot_turn, Sleep(0.3), *[AudioInFrame(bytes(FRAME_BYTES))] * 6]
        )
        return ctx, line, out

    ctx, line, out = asyncio.run(main())
    assert ctx.turn == 2 and ctx.caller_speaking
    assert not line.playout.active and line.playout.pending_ms == 0  # what was synthesised ahead is not heard
    assert bot_notes(line) == [LONG_ANSWER]  # "Autre chose ?" was never said
    assert line.transfers == []
    assert [type(f) for f in out] == [AudioInFrame] * 6  # the caller's words go on to recognition


def test_without_barge_in_the_caller_does_not_stop_the_bot() -> None:
    async def main():
        ctx, line = call_context(engines(), barge_in=False), Line()
        ctx.turn = 1
        detector = TurnDetector(ctx)
        detector.vad = AlwaysVoiced()
        await run_processor(
            [detector, Speaker(ctx), output_for(ctx, line)],
            [BotTextFrame("Un. Deux.", turn=1), Sleep(0.1), *[AudioInFrame(bytes(FRAME_BYTES))] * 6],
        )
        return ctx, line

    ctx, line = asyncio.run(main())
    assert ctx.turn == 1
    assert line.playout.active and line.playout.pending_ms == 2000


class SlowStep(FrameProcessor):
    """Takes its time over the bot's words, as synthesis does."""

    async def process_frame(self, frame):
        if isinstance(frame, BotTextFrame):
            await asyncio.sleep(0.2)
        await self.push_frame(frame)


def test_an_interruption_drops_the_queued_frames_of_the_bots_turn_and_keeps_the_callers() -> None:
    frames = [
        BotTextFrame("Un."), BotTextFrame("Deux."), AudioOutFrame(ONE_SECOND), TransferFrame("facturation", "2004"),
        TranscriptFrame("bonjour"), Sleep(0.05), InterruptionFrame(),
    ]
    out, up = asyncio.run(run_processor(SlowStep(), frames))
    assert out == [InterruptionFrame(), BotTextFrame("Un."), TranscriptFrame("bonjour")]  # at once, then what was kept
    assert up == []


async def play(line: Line) -> None:
    """The transport's clock, much faster than real time."""
    while True:
        line.playout.read_frame()
        await asyncio.sleep(0.001)


def test_the_output_transfers_once_the_words_before_were_heard() -> None:
    heard_first = []

    async def main():
        ctx, line = call_context(engines()), Line()
        transfer = line.transfer

        async def transfer_when(target, summary):
            heard_first.append(not line.playout.active)
            return await transfer(target, summary)

        line.transfer = transfer_when
        player = asyncio.create_task(play(line))
        frames = [AudioOutFrame(ONE_SECOND), BotTextFrame("Ne quittez pas."), TransferFrame("facturation", "2004", "motif")]
        out, up = await run_processor(output_for(ctx, line), frames)
        player.cancel()
        return ctx, line, out, up

    ctx, line, out, up = asyncio.run(main())
    assert line.transfers == [("2004", "motif")] and heard_first == [True]
    assert ctx.ending and out == [] and up == []


def test_a_refused_transfer_goes_back_upstream_and_a_goodbye_hangs_up_once_heard() -> None:
    async def main():
        ctx, line = call_context(engines()), Line(transfer_accepted=False)
        player = asyncio.create_task(play(line))
        frames = [TransferFrame("facturation", "2004"), AudioOutFrame(ONE_SECOND), BotTextFrame("Au revoir.", then_hang_up=True)]
        out, up = await run_processor(output_for(ctx, line), frames)
        player.cancel()
        return ctx, line, up

    ctx, line, up = asyncio.run(main())
    assert up == [TransferFailedFrame("facturation", "2004")]
    assert line.hung_up and ctx.ending and not line.playout.active


def test_a_refused_transfer_is_told_and_the_callback_request_offered_by_the_supervisor() -> None:
    dialogue = CallbackForm()

    async def main():
        return await run_processor(CallSupervisor(call_context(engines(dialogue))), [Upstream(TransferFailedFrame("facturation", "2004"))])

    out, up = asyncio.run(main())
    assert out == [BotTextFrame(messages.TRANSFER_FAILED), BotTextFrame("Quel est votre nom ?")]
    assert up == [] and dialogue.actions == [CALLBACK_FORM]


def module_imports(name: str) -> set[str]:
    tree = ast.parse((VOICE_GATEWAY / f"{name}.py").read_text(encoding="utf-8"))
    return {module for module, _ in imported_modules(tree) if module.startswith("voice_gateway.")}


def test_only_the_calls_output_acts_on_the_line() -> None:
    for name in PROCESSORS:
        source = (VOICE_GATEWAY / f"{name}.py").read_text(encoding="utf-8")
        imports = module_imports(name)
        assert "voice_gateway.transport" not in imports and "voice_gateway.call" not in imports, name
        assert ".connection" not in source and "playout." not in source, f"{name}.py acts on the line"


def test_the_voice_gateway_modules_make_no_circle() -> None:
    graph = {path.stem: {m.split(".")[1] for m in module_imports(path.stem)} for path in VOICE_GATEWAY.glob("*.py")}
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            assert state.get(target) != "open", "voice_gateway modules import each other: " + " -> ".join(path + [target])
            if target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
