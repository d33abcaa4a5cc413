"""A WebSocket caller: speaks into a call like a phone would, and records what the bot says.

For the tests, the benchmark and checking a deployment:
`python -m voice_gateway.caller ws://127.0.0.1:8090/call question.wav` plays a
16 kHz mono WAV after the greeting and prints what was heard and answered.
Like a phone line, it sends 20 ms of audio every 20 ms for the whole call
(silence when it is not speaking), so the gateway's end-of-turn detection
sees the silence after each utterance.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import wave
from array import array
from pathlib import Path
from typing import Callable, Optional

import websockets

from voice_gateway.frames import FRAME_BYTES, SAMPLE_RATE

SILENCE = bytes(FRAME_BYTES)


def read_wav(path: Path) -> bytes:
    """16 kHz mono PCM16 from a WAV file of that format."""
    with wave.open(str(path), "rb") as wav:
        if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) != (SAMPLE_RATE, 1, 2):
            raise ValueError(f"{path}: 16 kHz mono 16-bit WAV expected")
        return wav.readframes(wav.getnframes())


def rms(pcm: bytes) -> float:
    samples = array("h", pcm[: len(pcm) // 2 * 2])
    return (sum(s * s for s in samples) / len(samples)) ** 0.5 if samples else 0.0


def speech_end(pcm: bytes, threshold: float = 300.0) -> float:
    """Seconds from the start of `pcm` to the end of its last non-silent 20 ms frame."""
    last = 0
    for i in range(0, len(pcm), FRAME_BYTES):
        if rms(pcm[i : i + FRAME_BYTES]) > threshold:
            last = i + FRAME_BYTES
    return last / (SAMPLE_RATE * 2)


class WebSocketCaller:
    def __init__(self, url: str) -> None:
        self.url = url
        self.call_id: Optional[str] = None
        self.events: list[tuple[float, dict]] = []
        self.audio: list[tuple[float, bytes]] = []  # (arrival time, 20 ms of the bot's audio)
        self.hung_up = asyncio.Event()
        self._to_say: asyncio.Queue[tuple[bytes, asyncio.Future]] = asyncio.Queue()
        self._socket = None
        self._tasks: list[asyncio.Task] = []

    async def __aenter__(self) -> "WebSocketCaller":
        self._socket = await websockets.connect(self.url, max_size=None)
        first = json.loads(await self._socket.recv())
        self.call_id = first.get("call_id")
        self._tasks = [asyncio.create_task(self._receive()), asyncio.create_task(self._send())]
        return self

    async def __aexit__(self, *exc) -> None:
        await self.hang_up()

    async def _receive(self) -> None:
        try:
            async for message in self._socket:
                now = time.monotonic()
                if isinstance(message, bytes):
                    self.audio.append((now, message))
                else:
                    event = json.loads(message)
                    self.events.append((now, event))
                    if event.get("type") == "hangup":
                        self.hung_up.set()
        except websockets.ConnectionClosed:
            pass
        self.hung_up.set()

    async def _send(self) -> None:
        """One 20 ms frame every 20 ms, on a steady clock: speech when queued, silence otherwise."""
        tick = time.monotonic()
        pending, future, started = b"", None, 0.0
        while True:
            if not pending and not self._to_say.empty():
                (pending, future), started = self._to_say.get_nowait(), time.monotonic()
            frame, pending = (pending[:FRAME_BYTES], pending[FRAME_BYTES:]) if pending else (SILENCE, b"")
            try:
                await self._socket.send(frame.ljust(FRAME_BYTES, b"\0"))
            except websockets.ConnectionClosed:
                return
            if future is not None and not pending:
                future.set_result(started)
                future = None
            tick += 0.02
            await asyncio.sleep(max(0.0, tick - time.monotonic()))

    async def say(self, pcm: bytes) -> float:
        """Speak `pcm` (16 kHz PCM16) in real time; returns the monotonic time its speech ended."""
        future = asyncio.get_running_loop().create_future()
        self._to_say.put_nowait((pcm, future))
        started = await future
        return started + speech_end(pcm)

    async def dtmf(self, digit: str) -> None:
        await self._socket.send(json.dumps({"type": "dtmf", "digit": digit}))

    async def wait_for(self, predicate: Callable[[dict], bool], timeout: float = 30.0, after: float = 0.0) -> dict:
        """The first event (received after `after`) that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, event in self.events:
                if at >= after and predicate(event):
                    return event
            await asyncio.sleep(0.02)
        raise TimeoutError(f"no matching event in {timeout} s; events: {[e for _, e in self.events]}")

    async def wait_until_bot_silent(self, quiet: float = 0.6, timeout: float = 60.0, after: float = 0.0) -> None:
        """Until the bot has spoken (after `after`) and then sent no audio for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last = self.audio[-1][0] if self.audio else 0.0
            if last > after and time.monotonic() - last >= quiet:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("the bot kept talking")

    def first_audio_after(self, moment: float) -> Optional[float]:
        for at, pcm in self.audio:
            if at > moment and rms(pcm) > 100:
                return at
        return None

    def last_audio_after(self, moment: float) -> Optional[float]:
        times = [at for at, pcm in self.audio if at > moment]
        return times[-1] if times else None

    def texts(self, kind: str) -> list[str]:
        return [e.get("text", "") for _, e in self.events if e.get("type") == kind]

    async def hang_up(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._socket is not None:
            await self._socket.close()


async def _main(url: str, wav: Path) -> None:
    async with WebSocketCaller(url) as caller:
        await caller.wait_for(lambda e: e.get("type") == "bot")
        await caller.wait_until_bot_silent()
        ended = await caller.say(read_wav(wav))
        await caller.wait_until_bot_silent(after=ended)
        for _, event in caller.events:
            print(json.dumps(event, ensure_ascii=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("wav", type=Path)
    args = parser.parse_args()
    asyncio.run(_main(args.url, args.wav))
    sys.exit(0)
