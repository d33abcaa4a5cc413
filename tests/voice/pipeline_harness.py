"""`run_processor`: frames into one processor (or a few in a row), and what comes out at each end.

After Pipecat's `run_test`: the processors run as in a call (their own tasks,
system frames at once), a last frame of the harness's own says when they are
done, and the frames they pushed downstream and upstream come back as lists.
`Sleep` between frames waits, to let the processors act before the next one;
`Upstream(frame)` sends a frame back into the last processor, as the one
after it would.
A `Line` stands for the call's line when the call's output is among them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Iterable, Union

from voice_gateway.context import CallBehaviour, CallContext, Engines
from voice_gateway.frames import DataFrame, Frame, HangUpFrame
from voice_gateway.pipeline import FrameProcessor, Pipeline
from voice_gateway.transport import CallConnection


@dataclass
class Sleep:
    """Not a frame: the harness waits this long before sending the next one."""

    seconds: float


@dataclass
class Upstream:
    """Not a frame: the harness sends `frame` upstream into the last processor."""

    frame: Frame


@dataclass
class _Done(DataFrame):
    """Sent after the others: once it comes out at the far end, the processors have handled every frame."""


class _Ends(FrameProcessor):
    """Both ends of the processors under test: collects what reaches it, without a task of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[Frame] = []

    async def queue_frame(self, frame: Frame) -> None:
        self.frames.append(frame)

    async def queue_upstream(self, frame: Frame) -> None:
        self.frames.append(frame)


async def run_processor(
    processors: Union[FrameProcessor, Iterable[FrameProcessor]],
    frames_in: Iterable[Union[Frame, Sleep, Upstream]],
    *,
    timeout: float = 10.0,
) -> tuple[list[Frame], list[Frame]]:
    """Feed `frames_in` to the first processor; return (the frames out downstream, the frames out upstream)."""
    steps = [processors] if isinstance(processors, FrameProcessor) else list(processors)
    upstream, downstream = _Ends(), _Ends()
    Pipeline([upstream, *steps, downstream])
    for step in steps:
        step.start()
    try:
        for item in frames_in:
            if isinstance(item, Sleep):
                await asyncio.sleep(item.seconds)
            elif isinstance(item, Upstream):
                await steps[-1].queue_upstream(item.frame)
            else:
                await steps[0].queue_frame(item)
        await steps[0].queue_frame(_Done())
        async with asyncio.timeout(timeout):
            while not any(isinstance(f, _Done) for f in downstream.frames):
                await asyncio.sleep(0.01)
    finally:
        for step in steps:
            await step.stop()
    return [f for f in downstream.frames if not isinstance(f, _Done)], upstream.frames


class Line(CallConnection):
    """A call's line that nobody plays: it records what the call's output does with it."""

    transport_name = "test"

    def __init__(self, transfer_accepted: bool = True) -> None:
        super().__init__("call-test", "sip:patient@127.0.0.1", asyncio.get_running_loop())
        self.transfer_accepted = transfer_accepted
        self.notes: list[dict] = []
        self.transfers: list[tuple[str, str]] = []
        self.hung_up = False

    def notify(self, event: dict) -> None:
        self.notes.append(event)

    async def transfer(self, target: str, summary: str) -> bool:
        self.transfers.append((target, summary))
        return self.transfer_accepted

    async def hang_up(self) -> None:
        self.hung_up = True
        self.post_event(HangUpFrame("bot"))


def call_context(engines: Engines, **behaviour) -> CallContext:
    return CallContext("call-test", "sip:patient@127.0.0.1", CallBehaviour(**behaviour), engines)
