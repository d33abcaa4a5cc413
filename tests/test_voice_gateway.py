"""The voice gateway's call behaviour with the real engines (test models), without the Rasa model.

A stand-in dialogue gives exact answers (an emergency, a handover) or fails
like an unreachable Rasa server; the end-to-end tests use the real one.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from accueil.voice_vocabulary import write_phrase_list
from core.settings import Settings
from tests.conftest import free_port
from voice_gateway import messages
from voice_gateway.call import run_call
from voice_gateway.caller import WebSocketCaller, rms
from voice_gateway.context import CallBehaviour, Engines
from voice_gateway.dialogue import Dialogue, RasaDialogue
from voice_gateway.frames import HangUpFrame
from voice_gateway.gateway import Gateway
from voice_gateway.models import ModelError, vosk_model_dir
from voice_gateway.synthesis import speech_pieces
from voice_gateway.transport import CallConnection


class ScriptedDialogue(Dialogue):
    """Answers every message with the same scripted messages, and remembers what it was asked."""

    def __init__(self, answer: list[dict]) -> None:
        self.answer = answer
        self.asked: list[tuple[str, str]] = []

    async def send(self, sender, text, metadata=None):
        self.asked.append((sender, text))
        return self.answer

    async def run_action(self, sender, action):
        self.asked.append((sender, action))
        return [{"text": "Quel est votre nom ?"}]


def run_gateway_call(engines, dialogue: Dialogue, scenario, **settings) -> None:
    stt, tts = engines
    config = Settings(voice_ws_port=free_port(), **settings)

    async def main():
        gateway = Gateway(config, Engines(stt, tts, dialogue), sip=False)
        await gateway.start()
        try:
            async with WebSocketCaller(config.voice_ws_url) as caller:
                await scenario(caller)
        finally:
            await gateway.stop()
            await dialogue.close()

    asyncio.run(main())


def test_rasa_unreachable_the_caller_hears_an_apology_and_the_call_goes_on(engines):
    seen = {}

    async def scenario(caller: WebSocketCaller):
        apology = await caller.wait_for(lambda e: e.get("type") == "bot", timeout=30)
        await caller.wait_until_bot_silent()
        seen["apology"] = apology["text"]
        seen["loud"] = max(rms(pcm) for _, pcm in caller.audio)
        await caller.dtmf("0")
        await caller.wait_for(lambda e: e.get("type") == "bot", timeout=30, after=caller.audio[-1][0])

    run_gateway_call(engines, RasaDialogue(f"http://127.0.0.1:{free_port()}", timeout=3), scenario)
    assert seen["apology"] == messages.DIALOGUE_DOWN
    assert seen["loud"] > 500


def test_emergency_answers_are_said_first_and_slowly(engines):
    dialogue = ScriptedDialogue([
        {"text": "Autre chose ?", "response": "utter_anything_else"},
        {"text": "Appelez immédiatement le 15.", "response": "utter_emergency"},
    ])
    said = []

    async def scenario(caller: WebSocketCaller):
        await caller.wait_for(lambda e: e.get("type") == "bot" and e["text"] == "Autre chose ?", timeout=30)
        said.extend(e for _, e in caller.events if e.get("type") == "bot")

    run_gateway_call(engines, dialogue, scenario)
    assert [(e["text"], e["slow"]) for e in said] == [("Appelez immédiatement le 15.", True), ("Autre chose ?", False)]
    assert dialogue.asked[0][1] == "/greet"


def test_a_handover_is_transferred_to_the_service_extension_with_the_summary(engines):
    summary = "Canal voice · motif : facture"
    dialogue = ScriptedDialogue([
        {"text": "Je vous mets en relation avec le service facturation. Ne quittez pas."},
        {"custom": {"handover": {"service": "facturation", "summary": summary}}},
    ])
    events = []

    async def scenario(caller: WebSocketCaller):
        events.append(await caller.wait_for(lambda e: e.get("type") == "transfer", timeout=30))
        events.append(caller.last_audio_after(0))

    run_gateway_call(engines, dialogue, scenario, voice_transfer_targets={"facturation": "sip:2004@pbx.example"})
    transfer, last_audio = events
    assert transfer == {"type": "transfer", "target": "sip:2004@pbx.example", "summary": summary}
    assert last_audio is not None  # the "ne quittez pas" was heard before the transfer


def test_missing_models_stop_the_gateway_with_what_to_run(tmp_path):
    with pytest.raises(ModelError, match=r"accueil models pull vosk-model-small-fr-0.22"):
        vosk_model_dir("vosk-model-small-fr-0.22", tmp_path)
    env = {**os.environ, "ACCUEIL_MODELS_DIR": str(tmp_path), "ACCUEIL_VOSK_MODEL": "vosk-model-small-fr-0.22"}
    run = subprocess.run([sys.executable, "-m", "voice_gateway", "--no-sip"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "accueil models pull vosk-model-small-fr-0.22" in run.stderr
    assert "--mirror" in run.stderr


def test_the_phrase_list_holds_the_hospital_words(tmp_path, demo_kb):
    path = tmp_path / "phrases.txt"
    count = write_phrase_list(Settings().nlu_dir, demo_kb, path)
    words = set(path.read_text(encoding="utf-8").split())
    assert count == len(words) > 1000
    assert {"maternité", "réanimation", "jeun", "ambulatoire", "oui", "non", "zéro"} <= words


def test_long_first_sentences_are_cut_at_a_pause_so_the_answer_starts_sooner():
    assert speech_pieces("Les visites sont possibles de treize heures à vingt heures, tous les jours. Autre chose ?") == [
        "Les visites sont possibles de treize heures à vingt heures,", "tous les jours.", "Autre chose ?",
    ]
    assert speech_pieces("Bonjour. Je vous écoute.") == ["Bonjour.", "Je vous écoute."]


def test_the_phrase_list_keeps_only_words_the_model_knows_and_is_left_out_when_too_few_are_known(engines):
    stt, _ = engines
    assert stt._grammar(["maternité", "réanimation"]) is None  # French words, Korean model
    known = [w for w in ("안녕하세요", "감사합니다", "병원", "시간", "오늘", "내일") if stt.model.vosk_model_find_word(w) >= 0]
    assert known, "the test model should know some everyday Korean words"
    from voice_gateway import recognition

    previous, recognition.MIN_KNOWN_PHRASES = recognition.MIN_KNOWN_PHRASES, 1
    try:
        grammar = stt._grammar([*known, "maternité"])
    finally:
        recognition.MIN_KNOWN_PHRASES = previous
    assert grammar is not None and "maternité" not in grammar and "[unk]" in grammar


class RefusingLine(CallConnection):
    """A line whose transfers fail (nobody picks up), recording what the gateway does with it."""

    def __init__(self, loop) -> None:
        super().__init__("call-refused", "sip:patient@127.0.0.1", loop)
        self.transfers: list[tuple[str, str]] = []
        self.notes: list[dict] = []

    def notify(self, event: dict) -> None:
        self.notes.append(event)

    async def transfer(self, target: str, summary: str) -> bool:
        self.transfers.append((target, summary))
        return False

    async def hang_up(self) -> None:
        self.post_event(HangUpFrame("bot"))


def test_a_failed_transfer_offers_the_callback_request(engines):
    stt, tts = engines
    dialogue = ScriptedDialogue([
        {"text": "Je vous mets en relation avec le service facturation. Ne quittez pas."},
        {"custom": {"handover": {"service": "facturation", "summary": "motif : facture"}}},
    ])

    async def main():
        line = RefusingLine(asyncio.get_running_loop())
        call = asyncio.create_task(run_call(line, Engines(stt, tts, dialogue), CallBehaviour(transfer_default="2000")))
        for _ in range(300):
            if any(n.get("text") == "Quel est votre nom ?" for n in line.notes):
                break
            line.playout.clear()  # nobody plays this line: drop the audio as if heard
            await asyncio.sleep(0.05)
        line.post_event(HangUpFrame("caller"))
        await call
        return line

    line = asyncio.run(main())
    assert line.transfers == [("2000", "motif : facture")]
    bot = [n["text"] for n in line.notes if n.get("type") == "bot"]
    assert bot[-2:] == [messages.TRANSFER_FAILED, "Quel est votre nom ?"]
    assert dialogue.asked[-1] == ("call-refused", "callback_form")


def test_health_counts_calls_without_telling_whose_they_are(engines):
    """/health answers on the public bind: counts only, never a caller nor a call's id (its Rasa conversation)."""
    import json

    import requests

    seen = {}

    async def scenario(caller: WebSocketCaller):
        await caller.wait_for(lambda e: e.get("type") == "bot", timeout=30)
        health = caller.url.replace("ws://", "http://", 1).rsplit("/", 1)[0] + "/health"
        seen["during"] = (await asyncio.to_thread(requests.get, health, timeout=5)).text
        seen["call_id"] = caller.call_id

    run_gateway_call(engines, ScriptedDialogue([{"text": "Bonjour."}]), scenario)
    during = seen["during"]
    assert seen["call_id"] and seen["call_id"] not in during
    assert "127.0.0.1" not in during and "websocket:" not in during  # a WebSocket caller's identity is its address
    body = json.loads(during)
    assert body["active_calls"] == 1 and body["active_by_transport"] == {"sip": 0, "websocket": 1}
    assert set(body) == {"status", "active_calls", "active_by_transport", "calls_total", "underruns"}


def test_a_call_in_progress_when_the_gateway_stops_hears_an_apology_then_is_hung_up(engines):
    """SIGTERM (Ctrl-C of `accueil run`, systemd, a restart): the bot stops mid-answer, apologises and hangs up."""
    stt, tts = engines
    long_answer = "Les visites sont possibles tous les jours de treize heures à vingt heures. " * 6
    dialogue = ScriptedDialogue([{"text": long_answer}])
    config = Settings(voice_ws_port=free_port())
    seen = {}

    async def main():
        gateway = Gateway(config, Engines(stt, tts, dialogue), sip=False)
        await gateway.start()
        try:
            async with WebSocketCaller(config.voice_ws_url) as caller:
                await caller.wait_for(lambda e: e.get("type") == "bot", timeout=30)
                while not caller.audio:
                    await asyncio.sleep(0.02)
                stopping = asyncio.get_running_loop().time()
                await gateway.end_calls(grace=20)
                seen["ended_within"] = asyncio.get_running_loop().time() - stopping
                await asyncio.wait_for(caller.hung_up.wait(), 5)
                seen["bot"] = caller.texts("bot")
                seen["calls"] = len(gateway.calls)
        finally:
            await gateway.stop()

    asyncio.run(main())
    assert seen["bot"][-1] == messages.SHUTDOWN and seen["bot"][0] != messages.SHUTDOWN
    assert seen["calls"] == 0 and seen["ended_within"] < 15  # the 30 s answer was cut short
