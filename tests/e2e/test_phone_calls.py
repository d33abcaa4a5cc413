"""Phone calls over SIP to the real voice gateway (test models) and the real Rasa dialogue.

baresip (a softphone reading its microphone from a WAV and recording what it
hears) and SIPp (scripted callers, many at once) call the gateway's
processes on 127.0.0.1, as a PBX would.
"""

from __future__ import annotations

import asyncio
import json
import time

import numpy as np
import pytest
import requests
from sqlalchemy import create_engine, text

from core.settings import Settings
from tests.voice.sip_clients import Baresip, Sipp, espeak_wav, read_wav, rms

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def health(settings: Settings, line: int = 0) -> dict:
    port = settings.voice_line(line).voice_ws_port
    return requests.get(f"http://{settings.public_host}:{port}/health", timeout=5).json()


def wait_idle(settings: Settings, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while any(health(settings, i)["active_calls"] for i in range(settings.voice_processes)):
        assert time.monotonic() < deadline, "calls still active"
        time.sleep(0.2)


def new_calls(settings: Settings, since: float) -> list[dict]:
    """The calls Rasa heard since `since`: their ids and the caller the voice channel was given, read from Rasa's
    conversation store on the private side (the gateway's public /health gives counts only)."""
    engine = create_engine(settings.conversations_db_url)
    query = text("SELECT sender_id, data FROM events WHERE type_name = 'user' AND timestamp >= :since ORDER BY id")
    with engine.connect() as db:
        rows = db.execute(query, {"since": since}).all()
    engine.dispose()
    calls: dict[str, dict] = {}
    for sender, data in rows:
        event = json.loads(data)
        if event.get("input_channel") == "voice":
            calls.setdefault(sender, {"call_id": sender, "caller": (event.get("metadata") or {}).get("caller", "")})
    return list(calls.values())


def underruns(settings: Settings) -> int:
    return sum(health(settings, line)["underruns"] for line in range(settings.voice_processes))


def conversation(settings: Settings, rasa_url: str, call_id: str) -> list[dict]:
    reply = requests.get(f"{rasa_url}/conversations/{call_id}/tracker", params={"token": settings.rasa_api_token}, timeout=10)
    reply.raise_for_status()
    return reply.json()["events"]


def test_a_softphone_call_is_greeted_heard_answered_and_ends_cleanly(voice_url, e2e_settings, rasa_url, tmp_path):
    # The caller waits through the greeting, asks, and listens to the answer; baresip hangs up at 30 s.
    wav = espeak_wav("Bonjour, je voudrais connaître les horaires de visite.", tmp_path / "caller.wav", pad_seconds=(14.0, 25.0))
    rate, caller_audio = read_wav(wav)
    question_end = 14.0 + (len(caller_audio) / rate - 14.0 - 25.0)
    since = time.time()
    result = asyncio.run(Baresip(tmp_path, wav).call(f"sip:accueil@127.0.0.1:{e2e_settings.sip_port}", seconds=30))
    wait_idle(e2e_settings)

    assert result.recordings, result.output
    rate, heard = read_wav(result.recordings[0])
    seconds = np.arange(len(heard)) / rate
    assert rms(heard[seconds < 10.0]) > 300, "the greeting was not heard"
    answer = heard[(seconds > question_end + 0.4) & (seconds < question_end + 8.0)]
    assert rms(answer) > 300, "no answer heard after the question"

    [call] = new_calls(e2e_settings, since)
    assert call["caller"].startswith("sip:caller@127.0.0.1")
    said = [e for e in conversation(e2e_settings, rasa_url, call["call_id"]) if e["event"] == "user"]
    assert said[0]["text"] == "/greet" and len(said) >= 2 and said[1]["text"].strip(), said
    assert {e["input_channel"] for e in said} == {"voice"}


def test_key_0_over_sip_info_asks_for_a_human(voice_url, e2e_settings, rasa_url, tmp_path):
    since = time.time()
    result = asyncio.run(Sipp(tmp_path).run("uac_dtmf.xml", e2e_settings.sip_port))
    assert result.returncode == 0, result.explain()
    wait_idle(e2e_settings)
    [call] = new_calls(e2e_settings, since)
    intents = [e["parse_data"]["intent"]["name"] for e in conversation(e2e_settings, rasa_url, call["call_id"]) if e["event"] == "user"]
    assert "request_human" in intents


def test_ten_calls_at_once_are_answered_across_the_gateway_processes(voice_url, e2e_settings, rasa_url, tmp_path):
    """The PJSIP build on PyPI takes 4 calls a process: 10 callers spread over the 3 processes, as a PBX hunting on 486."""
    assert e2e_settings.voice_processes * 4 >= 10
    share = [4, 3, 3]
    since, underruns_before = time.time(), underruns(e2e_settings)

    async def place_calls():
        runs = [
            Sipp(tmp_path / f"line{line}").run(
                "uac_rtp.xml", e2e_settings.voice_line(line).sip_port, calls=count, limit=count, rate=50, timeout=60, extra=["-d", "12000"]
            )
            for line, count in enumerate(share)
        ]
        return await asyncio.gather(*runs)

    results = asyncio.run(place_calls())
    for result in results:
        assert result.returncode == 0, result.explain()
        assert "486 Busy Here" not in result.errors
    wait_idle(e2e_settings)
    calls = new_calls(e2e_settings, since)
    assert len(calls) == 10
    for call in calls:
        events = conversation(e2e_settings, rasa_url, call["call_id"])
        assert any(e["event"] == "user" and e["text"] == "/greet" for e in events)
        assert any(e["event"] == "bot" for e in events)
    print(f"10 simultaneous SIP calls: {underruns(e2e_settings) - underruns_before} audio underruns in all")
