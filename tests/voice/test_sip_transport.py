"""The SIP transport against real SIP clients (baresip, SIPp) on 127.0.0.1: audio both ways, DTMF,
codec and peer refusals, blind transfer, hang-ups, concurrent calls and PJSIP's call limit.

No Rasa and no engines: each test gives the transport a small handler. Each test
starts and stops its own `SipTransport` on a free port, inside `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import shutil
import socket
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, Optional

import numpy as np
import pytest

from tests.voice.sip_clients import (  # noqa: E402
    Baresip,
    Sipp,
    dominant_frequency,
    espeak_wav,
    loudest_window,
    read_wav,
    rms,
    tone_pcm16,
)
from voice_gateway.frames import FRAME_BYTES, AudioInFrame, DTMFFrame, Frame, HangUpFrame  # noqa: E402
from voice_gateway.sip_addresses import sanitize_header_value  # noqa: E402
from voice_gateway.sip_pjsua import library_max_calls  # noqa: E402
from voice_gateway.sip_transport import SipTransport  # noqa: E402
from voice_gateway.transport import CallConnection  # noqa: E402

TOOLS = ("baresip", "sipp", "espeak-ng", "sox")
def needs_clients(test):
    """The SIP clients are Debian packages that `.ci/run` installs: missing, the test fails and says so."""

    def check(*args, **kwargs):
        missing = [tool for tool in TOOLS if not shutil.which(tool)]
        if missing:
            pytest.fail(f"missing {', '.join(missing)}: apt-get install baresip-core sip-tester espeak-ng sox")
        return test(*args, **kwargs)

    return functools.wraps(test)(check)
pytestmark = pytest.mark.timeout(120)

SPEECH_RMS = 300  # int16 RMS: espeak speech through G.711 is in the thousands, line silence near 0


@dataclass
class CallRecord:
    connection: CallConnection
    audio: bytearray = field(default_factory=bytearray)
    events: list[Frame] = field(default_factory=list)
    result: object = None
    pending_ms_at_hangup: float = -1.0

    @property
    def dtmf(self) -> list[str]:
        return [e.digit for e in self.events if isinstance(e, DTMFFrame)]

    @property
    def hangups(self) -> list[HangUpFrame]:
        return [e for e in self.events if isinstance(e, HangUpFrame)]


class Recorder:
    """A test handler: optional action at call start, records what the caller sends until it hangs up."""

    def __init__(
        self,
        on_start: Optional[Callable[[CallConnection, CallRecord], Awaitable[None]]] = None,
        echo: bool = False,
        wait_hangup: bool = True,
    ) -> None:
        self.on_start = on_start
        self.echo = echo
        self.wait_hangup = wait_hangup
        self.calls: list[CallRecord] = []
        self.finished = 0
        self.peak_active = 0
        self.transport: Optional[SipTransport] = None

    async def __call__(self, connection: CallConnection) -> None:
        record = CallRecord(connection)
        self.calls.append(record)
        if self.transport is not None:
            self.peak_active = max(self.peak_active, self.transport.active_calls)
        try:
            if self.on_start is not None:
                await self.on_start(connection, record)
            if not self.wait_hangup:
                return
            while True:
                frame = await asyncio.wait_for(connection.events.get(), 30)
                if isinstance(frame, AudioInFrame):
                    assert len(frame.pcm) == FRAME_BYTES
                    record.audio += frame.pcm
                    if self.echo:
                        connection.playout.write(frame.pcm, more_coming=True)
                    continue
                record.events.append(frame)
                if isinstance(frame, HangUpFrame):
                    record.pending_ms_at_hangup = connection.playout.pending_ms
                    return
        finally:
            self.finished += 1


@contextlib.asynccontextmanager
async def running(handler: Recorder, tmp_path: Path, **options) -> AsyncIterator[SipTransport]:
    transport = SipTransport(host="127.0.0.1", port=0, log_file=tmp_path / "pjsip.log", **options)
    handler.transport = transport
    await transport.start(handler)
    try:
        yield transport
    finally:
        await transport.stop()


async def settle(transport: SipTransport, handler: Recorder, calls: int, timeout: float = 5.0) -> None:
    """Wait until `calls` handlers have returned and no call is up."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if handler.finished >= calls and transport.active_calls == 0:
            return
        await asyncio.sleep(0.05)


def run(coro: Awaitable) -> object:
    return asyncio.run(asyncio.wait_for(coro, 90))


def pcm16(data: bytes) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<i2")


# --- pure helpers ------------------------------------------------------------------------------


def test_summary_header_is_one_short_line():
    assert sanitize_header_value("Canal voice · motif : test") == "Canal voice · motif : test"
    assert sanitize_header_value("a\r\nX-Evil: 1\tb\x00c\x7f") == "a X-Evil: 1 bc"
    long = "é" * 600  # 1200 bytes of UTF-8
    cut = sanitize_header_value(long)
    assert len(cut.encode("utf-8")) <= 900 and cut == "é" * 450
    euros = sanitize_header_value("x" + "€" * 400)  # 1 + 1200 bytes: cut between two 3-byte characters
    assert euros == "x" + "€" * 299 and len(euros.encode("utf-8")) == 898


def test_allowed_peers_accept_addresses_and_networks():
    transport = SipTransport(allowed_peers=["10.0.0.0/8", "192.168.1.5", "::1"])
    assert transport._peer_allowed("10.20.30.40")
    assert transport._peer_allowed("192.168.1.5")
    assert not transport._peer_allowed("192.168.1.6")
    assert transport._peer_allowed("::1")
    assert transport._peer_allowed("::ffff:10.1.1.1")
    assert not transport._peer_allowed("127.0.0.1")
    assert not transport._peer_allowed("not-an-ip")
    assert SipTransport(allowed_peers=[])._peer_allowed("203.0.113.7")


# --- real calls --------------------------------------------------------------------------------


@needs_clients
def test_baresip_call_audio_both_ways(tmp_path: Path):
    """The caller hears the gateway's 440 Hz tone; the gateway hears the caller's speech; clean end."""
    speech = espeak_wav("Bonjour, je voudrais prendre un rendez-vous en cardiologie.", tmp_path / "caller.wav", pad_seconds=(0.3, 8.0))

    async def play_tone(connection: CallConnection, record: CallRecord) -> None:
        connection.playout.write(tone_pcm16(440, 1.0), more_coming=False)

    handler = Recorder(on_start=play_tone)

    async def scenario():
        async with running(handler, tmp_path) as transport:
            phone = Baresip(tmp_path, speech)
            result = await phone.call(f"sip:accueil@127.0.0.1:{transport.port}", seconds=5)
            await settle(transport, handler, 1)
            return transport.active_calls, result

    active, result = run(scenario())
    assert result.returncode == 0, result.output
    assert "Call established" in result.output, result.output
    assert len(handler.calls) == 1
    record = handler.calls[0]
    assert [h.reason for h in record.hangups] == ["caller"]
    assert active == 0

    # What baresip heard: the tone (G.711 at 8 kHz).
    assert result.recordings, result.output
    rate, heard = read_wav(result.recordings[0])
    tone = loudest_window(heard, rate, 0.5)
    assert rms(tone) > 2000, f"caller heard only silence (RMS {rms(heard):.0f})"
    assert abs(dominant_frequency(tone, rate) - 440) < 15

    # What the gateway heard: the caller's speech, at 16 kHz, in 20 ms frames.
    gateway_heard = pcm16(record.audio)
    assert len(gateway_heard) > 16000 * 2
    assert rms(loudest_window(gateway_heard, 16000, 0.5)) > SPEECH_RMS * 3
    _, sent = read_wav(speech)
    assert rms(loudest_window(sent, 8000, 0.5)) > SPEECH_RMS * 3


@needs_clients
def test_the_softphone_still_calls_when_a_port_it_probed_is_taken_before_it_binds(tmp_path: Path):
    """CI once lost a run to baresip's SIP/TLS port being taken between the probe and the bind."""
    speech = espeak_wav("Bonjour.", tmp_path / "caller.wav", pad_seconds=(0.3, 6.0))
    handler = Recorder()

    async def scenario():
        async with running(handler, tmp_path) as transport:
            phone = Baresip(tmp_path, speech)
            first_port = phone.port
            with socket.socket() as squatter:
                squatter.bind(("127.0.0.1", first_port + 1))  # baresip's SIP/TLS port
                squatter.listen()
                result = await phone.call(f"sip:accueil@127.0.0.1:{transport.port}", seconds=2)
            await settle(transport, handler, 1)
            return first_port, phone.port, result

    first_port, final_port, result = run(scenario())
    assert final_port != first_port
    assert result.returncode == 0, result.output
    assert "Call established" in result.output, result.output
    assert len(handler.calls) == 1


@needs_clients
def test_dtmf_sip_info_and_rfc2833(tmp_path: Path):
    handler = Recorder()

    async def scenario():
        async with running(handler, tmp_path) as transport:
            result = await Sipp(tmp_path).run("uac_dtmf.xml", transport.port)
            await settle(transport, handler, 1)
            return result

    result = run(scenario())
    assert result.returncode == 0, result.explain()
    assert len(handler.calls) == 1
    assert handler.calls[0].dtmf == ["0", "5"]  # "0" by SIP INFO, "5" by RFC 2833
    assert [h.reason for h in handler.calls[0].hangups] == ["caller"]


@needs_clients
@pytest.mark.parametrize(
    "scenario_file, allowed_peers, refusal",
    [
        ("uac_g722_only.xml", (), "SIP/2.0 488"),  # a codec the gateway does not offer
        ("uac_forbidden.xml", ["10.1.2.3"], "SIP/2.0 403"),  # a peer outside the allow-list
    ],
)
def test_calls_the_gateway_cannot_take_are_refused(tmp_path: Path, scenario_file: str, allowed_peers, refusal: str):
    handler = Recorder()

    async def scenario():
        async with running(handler, tmp_path, allowed_peers=allowed_peers) as transport:
            result = await Sipp(tmp_path).run(scenario_file, transport.port)
            await asyncio.sleep(0.2)
            return result, transport.active_calls

    result, active = run(scenario())
    assert result.returncode == 0, result.explain()
    assert refusal in result.messages
    assert handler.calls == [] and active == 0


@needs_clients
@pytest.mark.parametrize("scenario_file, expected", [("uac_transfer.xml", True), ("uac_transfer_refused.xml", False)])
def test_transfer_refer_with_summary(tmp_path: Path, scenario_file: str, expected: bool):
    async def transfer(connection: CallConnection, record: CallRecord) -> None:
        await asyncio.sleep(0.2)
        record.result = await connection.transfer("2001", "Canal voice · motif : test")

    handler = Recorder(on_start=transfer, wait_hangup=False)

    async def scenario():
        async with running(handler, tmp_path) as transport:
            result = await Sipp(tmp_path).run(scenario_file, transport.port)
            await settle(transport, handler, 1)
            return result, transport.active_calls

    result, active = run(scenario())
    assert result.returncode == 0, result.explain()
    assert handler.calls[0].result is expected
    summary = re.search(r"SUMMARY=(.*)", result.log)
    assert summary and summary.group(1).strip() == "Canal voice · motif : test", result.log
    refer_to = re.search(r"^Refer-To: <?(sip:2001@127\.0\.0\.1[^>\s]*)", result.messages, re.MULTILINE)
    assert refer_to, result.messages[-3000:]
    assert active == 0
    # PJSIP's own log holds no SIP message: the summary (the patient's last words) and the caller's URI stay out of it.
    pjsip_log = tmp_path / "pjsip.log"
    assert stat.S_IMODE(pjsip_log.stat().st_mode) == 0o600
    assert not re.search(r"motif|X-Accueil-Summary|INVITE sip:|From:", pjsip_log.read_text(errors="replace"))


@needs_clients
def test_gateway_hangs_up_when_the_handler_fails(tmp_path: Path):
    async def fail(connection: CallConnection, record: CallRecord) -> None:
        await asyncio.sleep(0.3)
        raise RuntimeError("pipeline crashed (on purpose)")

    handler = Recorder(on_start=fail)

    async def scenario():
        async with running(handler, tmp_path) as transport:
            result = await Sipp(tmp_path).run("uac_wait_bye.xml", transport.port)
            await settle(transport, handler, 1)
            return result, transport.active_calls

    result, active = run(scenario())
    assert result.returncode == 0, result.explain()  # SIPp got the gateway's BYE
    assert len(handler.calls) == 1 and active == 0


@needs_clients
def test_caller_hangs_up_mid_playout_then_next_call(tmp_path: Path):
    async def long_answer(connection: CallConnection, record: CallRecord) -> None:
        connection.playout.write(tone_pcm16(440, 10.0), more_coming=False)

    handler = Recorder(on_start=long_answer)

    async def scenario():
        async with running(handler, tmp_path) as transport:
            sipp = Sipp(tmp_path)
            first = await sipp.run("uac_rtp.xml", transport.port, extra=["-d", "1000"])
            await settle(transport, handler, 1)
            second = await sipp.run("uac_rtp.xml", transport.port, extra=["-d", "500"])
            await settle(transport, handler, 2)
            return first, second, transport.active_calls

    first, second, active = run(scenario())
    assert first.returncode == 0, first.explain()
    assert second.returncode == 0, second.explain()
    assert len(handler.calls) == 2
    interrupted = handler.calls[0]
    assert [h.reason for h in interrupted.hangups] == ["caller"]
    assert interrupted.pending_ms_at_hangup > 5000  # most of the 10 s answer was still queued
    assert rms(loudest_window(pcm16(interrupted.audio), 16000, 0.5)) > SPEECH_RMS
    assert [h.reason for h in handler.calls[1].hangups] == ["caller"]
    assert active == 0


@needs_clients
def test_calls_beyond_the_limit_get_486_then_paced_calls_succeed(tmp_path: Path):
    """The transport's `max_calls` is the limit PJSIP really applies (read from the library).

    A burst of 10 simultaneous INVITEs: min(10, max_calls) answered, the others
    refused with a clean 486 Busy Here by PJSIP itself; then 10 calls, at most
    max_calls at once, streaming speech and echoed, all succeed.
    """
    handler = Recorder(echo=True)

    async def scenario():
        async with running(handler, tmp_path) as transport:
            max_calls = transport.max_calls
            sipp = Sipp(tmp_path)
            burst = await sipp.run("uac_rtp.xml", transport.port, calls=10, rate=50, extra=["-d", "2000"])
            await settle(transport, handler, len(handler.calls))
            answered_in_burst = len(handler.calls)
            peak_in_burst = handler.peak_active
            handler.calls.clear()
            handler.finished = 0
            handler.peak_active = 0
            limit = min(10, max_calls)
            paced = await sipp.run("uac_rtp.xml", transport.port, calls=10, rate=50, limit=limit, extra=["-d", "1500"])
            await settle(transport, handler, 10)
            return max_calls, burst, answered_in_burst, peak_in_burst, paced, transport.active_calls

    max_calls, burst, answered_in_burst, peak_in_burst, paced, active = run(scenario())
    limit = min(10, max_calls)
    busy = burst.errors.count("received 'SIP/2.0 486 Busy Here")
    assert answered_in_burst == limit, burst.explain()
    assert busy == 10 - limit, burst.explain()
    assert burst.returncode == (0 if busy == 0 else 1), burst.explain()
    assert peak_in_burst == limit  # all answered calls of the burst were up at the same time

    assert paced.returncode == 0, paced.explain()
    assert len(handler.calls) == 10
    assert handler.peak_active == limit
    for record in handler.calls:
        assert [h.reason for h in record.hangups] == ["caller"]
        assert rms(loudest_window(pcm16(record.audio), 16000, 0.5)) > SPEECH_RMS
        assert record.connection.playout.frames_played > 25  # the echo went back
    assert active == 0


def test_max_calls_reaches_pjsip_and_is_capped_by_the_build():
    """maxCalls goes to libInit: a smaller limit is applied as asked, a larger one is cut to PJSUA_MAX_CALLS."""

    async def limits() -> tuple[int, int]:
        applied = []
        for asked in (2, 64):
            transport = SipTransport(host="127.0.0.1", port=0, max_calls=asked)
            await transport.start(Recorder())
            try:
                applied.append(transport.max_calls)
                assert library_max_calls() == transport.max_calls
            finally:
                await transport.stop()
        return applied[0], applied[1]

    small, large = run(limits())
    assert small == 2
    assert 2 < large <= 64  # the build's PJSUA_MAX_CALLS: 4 in pjsua2-python 2.15.1.post1, 32 by PJSIP's default
