"""Bad input to the call WebSocket (/call) of a real voice gateway (test engines, a scripted dialogue): binary
garbage, odd-sized audio, text frames that are not events, start messages with wrong sample rates, a 10 MB frame,
audio far faster than real time, more calls than allowed, a call longer than allowed. Each call ends cleanly
(a normal close, 1009 for a message too big, 1013 with a French reason when every line is busy), never an internal
error (1011); the gateway keeps answering /health and new calls; its queues stay bounded."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import requests
import websockets
from hypothesis import HealthCheck, given, settings, strategies as st
from websockets.exceptions import ConnectionClosed

from core.settings import Settings
from tests.conftest import free_port
from tests.fuzz.servers import in_thread
from voice_gateway import call as call_module, messages
from voice_gateway.context import Engines
from voice_gateway.dialogue import Dialogue
from voice_gateway.gateway import Gateway
from voice_gateway.pipeline import MAX_QUEUED_AUDIO
from voice_gateway.websocket_transport import BUSY, BUSY_CODE, MAX_QUEUED_EVENTS


class Hello(Dialogue):
    async def send(self, sender, text, metadata=None):
        return [{"text": "Bonjour."}]

    async def run_action(self, sender, action):
        return []


def gateway(engines, **overrides):
    """A gateway (WebSocket only) in a thread of its own; yields (it, its settings)."""
    config = Settings(voice_ws_port=free_port(), voice_silence_timeout=60.0, **overrides)

    async def start():
        running = Gateway(config, Engines(*engines, Hello()), sip=False)
        await running.start()
        return running

    async def stop(running) -> None:
        await running.stop()

    return config, in_thread(start, stop)


@pytest.fixture(scope="module")
def line(engines):
    config, running = gateway(engines, voice_max_web_calls=2)
    with running as gw:
        yield config, gw


def healthy(config: Settings) -> None:
    reply = requests.get(f"http://127.0.0.1:{config.voice_ws_port}/health", timeout=5)
    assert reply.status_code == 200 and reply.json()["status"] == "ok"


async def answered(url: str, **kwargs):
    socket = await websockets.connect(url, max_size=None, **kwargs)
    first = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert first["type"] == "answered"
    socket.call_id = first["call_id"]
    return socket


async def until_closed(socket, timeout: float = 15) -> list:
    """Everything the gateway sends until it closes the call; the close code is `socket.close_code`."""
    received = []
    try:
        async with asyncio.timeout(timeout):
            async for message in socket:
                received.append(message)
    except ConnectionClosed:
        pass
    return received


texts = st.text(st.characters(codec="utf-8") | st.characters(categories=["Cc", "Cf"]), max_size=60)
anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
frames = st.lists(
    st.one_of(
        st.binary(max_size=3000),
        st.integers(0, 64 * 1024).map(bytes),
        texts,
        anything.map(json.dumps),
        st.fixed_dictionaries(
            {"type": st.sampled_from(["start", "dtmf", "audio", "bye"])},
            optional={
                "sample_rate": st.sampled_from([8000, 44100, 48000, 0, -1, "16k", None, 10**12, 1.5]),
                "digit": anything | st.sampled_from(["0", "12", "", "*", "#", "a"]),
            },
        ).map(json.dumps),
    ),
    max_size=8,
)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(sent=frames)
def test_any_frames_end_in_a_clean_close_and_the_gateway_goes_on(line, sent) -> None:
    config, _ = line

    async def scenario() -> None:
        socket = await answered(config.voice_url)
        for message in sent:
            await socket.send(message)
        await socket.send(json.dumps({"type": "hangup"}))
        received = await until_closed(socket)
        assert socket.close_code in (1000, 1005), (socket.close_code, socket.close_reason)
        for message in received:
            if isinstance(message, str):
                assert isinstance(json.loads(message).get("type"), str)

    asyncio.run(scenario())
    healthy(config)


def test_a_10_MB_frame_closes_the_call_with_1009_and_the_next_call_is_answered(line) -> None:
    config, _ = line

    async def scenario() -> None:
        socket = await answered(config.voice_url)
        try:
            await socket.send(bytes(10 * 1024 * 1024))
        except ConnectionClosed:
            pass
        await until_closed(socket)
        assert socket.close_code == 1009
        again = await answered(config.voice_url)
        await again.send(json.dumps({"type": "hangup"}))
        await until_closed(again)

    asyncio.run(scenario())
    healthy(config)


def test_over_the_simultaneous_calls_a_new_one_is_refused_politely(line) -> None:
    config, _ = line

    async def scenario() -> None:
        first, second = await answered(config.voice_url), await answered(config.voice_url)
        third = await websockets.connect(config.voice_url)
        await until_closed(third)
        assert (third.close_code, third.close_reason) == (BUSY_CODE, BUSY)
        await first.send(json.dumps({"type": "hangup"}))
        await until_closed(first)
        fourth = await answered(config.voice_url)  # a line is free again
        for socket in (second, fourth):
            await socket.send(json.dumps({"type": "hangup"}))
            await until_closed(socket)

    asyncio.run(scenario())
    healthy(config)


def test_audio_far_faster_than_real_time_is_dropped_rather_than_queued(line, monkeypatch) -> None:
    config, gw = line
    pipelines = []
    build = call_module.build_pipeline
    monkeypatch.setattr(call_module, "build_pipeline", lambda *args: pipelines.append(build(*args)) or pipelines[-1])
    noise = bytes(range(256)) * 256  # 64 KiB: 2 s of loud audio per message

    async def scenario() -> None:
        socket = await answered(config.voice_url)
        call = next(c for c in gw.websocket.calls if c.call_id == socket.call_id)
        while not pipelines:
            await asyncio.sleep(0.01)
        deadline = time.monotonic() + 3
        longest = 0
        while time.monotonic() < deadline:  # about 100 times real time
            await socket.send(noise)
            longest = max(longest, call.events.qsize(), *(p._queue.qsize() for p in pipelines[-1].processors))
        assert longest <= max(MAX_QUEUED_AUDIO, MAX_QUEUED_EVENTS) + 10
        assert sum(p.dropped_audio for p in pipelines[-1].processors) > 0
        await socket.send(json.dumps({"type": "hangup"}))
        await until_closed(socket)
        assert socket.close_code in (1000, 1005)

    asyncio.run(scenario())
    healthy(config)


def test_a_call_over_the_longest_length_gets_a_goodbye_and_is_hung_up(engines) -> None:
    config, running = gateway(engines, voice_max_call_seconds=2.0)
    with running:

        async def scenario() -> None:
            socket = await answered(config.voice_url)
            started = time.monotonic()
            silence = bytes(640)
            received: list = []

            async def keep_talking() -> None:  # a phone line sends audio all along
                while True:
                    await socket.send(silence)
                    await asyncio.sleep(0.02)

            talking = asyncio.create_task(keep_talking())
            try:
                received = await until_closed(socket, timeout=40)
            finally:
                talking.cancel()
                await asyncio.gather(talking, return_exceptions=True)
            events = [json.loads(m) for m in received if isinstance(m, str)]
            assert {"type": "bot", "text": messages.GOODBYE_TOO_LONG} in [{k: e.get(k) for k in ("type", "text")} for e in events]
            assert events[-1]["type"] == "hangup" and time.monotonic() - started >= 2.0

        asyncio.run(scenario())
        healthy(config)
