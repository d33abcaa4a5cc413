"""The studio's /metrics in front of the running assistant: what the REST conversations and a phone call add.

Rasa, the action server and the voice gateway write their metrics into the session's
folder (`Settings.metrics_dir`); the studio's endpoint, served in-process, adds them up.
Each step checks the exact change it makes.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from studio.app import create_app
from tests.e2e.test_dialogues import Conversation as Chat
from tests.e2e.test_dialogues import request_callback
from tests.e2e.test_rest_questions import contains
from tests.e2e.test_voice_calls import french_speech, greeted
from tests.test_metrics_broker import samples
from voice_gateway.caller import WebSocketCaller

pytestmark = pytest.mark.e2e


class Metrics:
    """Reads /metrics and says what changed since the last `mark`."""

    def __init__(self, settings) -> None:
        from core.secret_files import metrics_token

        self.client = create_app(settings).test_client()
        self.headers = {"Authorization": f"Bearer {metrics_token(settings)}"}
        self.before = self.read()

    def read(self) -> dict:
        reply = self.client.get("/metrics", headers=self.headers)
        assert reply.status_code == 200
        return samples(reply.get_data())

    def mark(self) -> None:
        self.before = self.read()

    def change(self, name: str, **labels: str) -> float:
        key = (name, *sorted(labels.items()))
        return self.read().get(key, 0.0) - self.before.get(key, 0.0)

    def now(self, name: str, **labels: str) -> float:
        return self.read().get((name, *sorted(labels.items())), 0.0)


def test_web_messages_fallbacks_handovers_and_emergencies_are_counted(e2e_settings, rasa_url) -> None:
    metrics = Metrics(e2e_settings)
    known = Chat(rasa_url)
    assert contains(known.text("le labo est ouvert le samedi ?"), "Cette réponse vous a-t-elle aidé")
    known.text("oui")
    assert metrics.change("accueil_messages_total", channel="web") == 2
    assert metrics.change("accueil_response_seconds_count", channel="web") == 2
    assert metrics.change("accueil_response_seconds_sum", channel="web") > 0
    assert metrics.change("accueil_fallbacks_total", channel="web") == 0

    metrics.mark()
    Chat(rasa_url).text("xqzw plop grunk")  # nlu_fallback, then the suggestions: one fallback
    assert metrics.change("accueil_messages_total", channel="web") == 1
    assert metrics.change("accueil_fallbacks_total", channel="web") == 1

    metrics.mark()
    assert contains(request_callback(Chat(rasa_url), "zéro six douze trente quatre cinquante six soixante dix huit"), "Jeanne Martin")
    assert metrics.change("accueil_messages_total", channel="web") == 5
    assert metrics.change("accueil_handovers_total", channel="web", kind="callback") == 1
    assert metrics.change("accueil_handovers_total", channel="web", kind="transfer") == 0

    metrics.mark()
    assert "15" in Chat(rasa_url).text("aidez moi mon père s'est effondré il ne respire plus")
    assert metrics.change("accueil_emergencies_total", channel="web") == 1
    assert metrics.change("accueil_messages_total", channel="web") == 1

    assert metrics.now("accueil_errors_total", component="actions") == 0
    assert metrics.now("accueil_errors_total", component="action_server") == 0


def wait_for_calls(metrics: Metrics, count: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while metrics.now("accueil_active_calls") != count:
        assert time.monotonic() < deadline, f"calls in progress: {metrics.now('accueil_active_calls')}, expected {count}"
        time.sleep(0.2)


def test_a_websocket_call_is_counted_while_it_lasts_with_its_answer_time(e2e_settings, rasa_url, voice_url, tmp_path) -> None:
    metrics = Metrics(e2e_settings)
    wait_for_calls(metrics, 0)  # calls of earlier tests have ended
    metrics.mark()
    question = french_speech("Bonjour, quels sont les horaires de visite en maternité ?", tmp_path)

    async def call() -> float:
        async with WebSocketCaller(voice_url) as caller:
            await greeted(caller)
            during = metrics.now("accueil_active_calls")
            ended = await caller.say(question)
            await caller.wait_for(lambda e: e.get("type") == "heard" and e["text"], timeout=30)
            await caller.wait_for(lambda e: e.get("type") == "turn", timeout=30)
            await caller.wait_until_bot_silent(after=ended)
            return during

    assert asyncio.run(call()) == 1
    wait_for_calls(metrics, 0)
    assert metrics.change("accueil_calls_total", transport="websocket") == 1
    assert metrics.change("accueil_calls_total", transport="sip") == 0
    assert metrics.change("accueil_voice_response_seconds_count") == 1
    assert metrics.change("accueil_voice_response_seconds_sum") > 0
    # The gateway's greeting (/greet) and the question heard, on Rasa's side.
    assert metrics.change("accueil_messages_total", channel="voice") == 2
    assert metrics.change("accueil_response_seconds_count", channel="voice") == 2
    assert metrics.change("accueil_messages_total", channel="web") == 0
    assert metrics.change("accueil_errors_total", component="dialogue") == 0
