"""The voice gateway's metrics, with the real engines (test models) and a stand-in dialogue: calls, errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.conftest import free_port
from tests.test_metrics_broker import metrics_dir, value  # noqa: F401 (the fixture)
from tests.test_voice_gateway import RefusingLine, ScriptedDialogue, run_gateway_call
from voice_gateway.call import run_call
from voice_gateway.caller import WebSocketCaller
from voice_gateway.context import CallBehaviour, Engines
from voice_gateway.dialogue import RasaDialogue
from voice_gateway.frames import HangUpFrame, StartFrame
from voice_gateway.pipeline import FrameProcessor


def test_a_call_is_in_progress_while_it_lasts_and_rasa_unreachable_is_counted(engines, metrics_dir: Path) -> None:  # noqa: F811
    during = {}

    async def scenario(caller: WebSocketCaller):
        await caller.wait_for(lambda e: e.get("type") == "bot", timeout=30)  # the apology: no greeting from Rasa
        await caller.wait_until_bot_silent()
        during["calls"] = value(metrics_dir, "accueil_active_calls")
        await caller.dtmf("0")  # asks for a human: Rasa is still unreachable
        await caller.wait_for(lambda e: e.get("type") == "bot", timeout=30, after=caller.audio[-1][0])

    run_gateway_call(engines, RasaDialogue(f"http://127.0.0.1:{free_port()}", timeout=3), scenario)
    assert during["calls"] == 1
    assert value(metrics_dir, "accueil_active_calls") == 0
    assert value(metrics_dir, "accueil_calls_total", transport="websocket") == 1
    assert value(metrics_dir, "accueil_calls_total", transport="sip") == 0
    assert value(metrics_dir, "accueil_errors_total", component="dialogue") == 2
    assert value(metrics_dir, "accueil_errors_total", component="synthesis") == 0


def test_a_failed_transfer_is_counted(engines, metrics_dir: Path) -> None:  # noqa: F811
    stt, tts = engines
    dialogue = ScriptedDialogue([{"text": "Ne quittez pas."}, {"custom": {"handover": {"service": "facturation", "summary": "motif"}}}])

    async def main():
        line = RefusingLine(asyncio.get_running_loop())
        call = asyncio.create_task(run_call(line, Engines(stt, tts, dialogue), CallBehaviour(transfer_default="2000")))
        for _ in range(300):
            if line.transfers and any(n.get("text") == "Quel est votre nom ?" for n in line.notes):
                break
            line.playout.clear()
            await asyncio.sleep(0.05)
        line.post_event(HangUpFrame("caller"))
        await call

    asyncio.run(main())
    assert value(metrics_dir, "accueil_errors_total", component="transfer") == 1
    assert value(metrics_dir, "accueil_errors_total", component="dialogue") == 0


class BrokenStep(FrameProcessor):
    async def process_frame(self, frame):
        raise RuntimeError("this step crashed")


class BrokenRecogniser(BrokenStep):
    error_component = "recognition"


def test_a_failure_in_the_pipeline_is_counted_for_its_component(metrics_dir: Path) -> None:  # noqa: F811
    async def main():
        for step in (BrokenRecogniser(), BrokenStep(), BrokenStep()):
            await step.queue_frame(StartFrame("call", "caller"))  # a system frame: handled at once

    asyncio.run(main())  # the failures were caught: the call would go on
    assert value(metrics_dir, "accueil_errors_total", component="recognition") == 1
    assert value(metrics_dir, "accueil_errors_total", component="voice") == 2
