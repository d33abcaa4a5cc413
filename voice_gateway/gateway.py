"""The voice gateway's process: shared engines, the SIP and WebSocket transports, one pipeline per call.

It loads the Vosk model and starts the Piper worker once, answers calls on
both transports, and answers `GET /health` on the WebSocket port with the
number of calls in progress and the audio underruns so far. When the process
is told to stop (SIGTERM, SIGINT), each call in progress hears a short apology
and is hung up before the transports close; a process killed outright (kill
-9, the OOM killer) cannot say anything: its calls end when the caller's side
notices the line is dead, and the supervisor starts it again.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import signal
from pathlib import Path
from typing import Optional

from core import metrics
from core.secret_files import voice_webhook_secret
from core.settings import Settings
from voice_gateway.call import run_call
from voice_gateway.context import CallBehaviour, Engines
from voice_gateway.dialogue import RasaDialogue
from voice_gateway.frames import ShutdownFrame
from voice_gateway.models import piper_voice_file, vosk_model_dir
from voice_gateway.recognition import VoskSpeechToText
from voice_gateway.synthesis import PiperTextToSpeech
from voice_gateway.transport import CallConnection
from voice_gateway.websocket_transport import WebSocketTransport

logger = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 10.0  # a stopping process's calls hear the apology within this (`accueil run` waits 15 s)


def behaviour_from(settings: Settings) -> CallBehaviour:
    return CallBehaviour(
        end_of_turn_ms=settings.voice_end_of_turn_ms,
        barge_in=settings.voice_barge_in,
        silence_timeout=settings.voice_silence_timeout,
        max_silences=settings.voice_max_silences,
        max_call_seconds=settings.voice_max_call_seconds,
        transfer_targets=dict(settings.voice_transfer_targets),
        transfer_default=settings.voice_transfer_default,
    )


def read_phrases(path: Optional[Path]) -> Optional[list[str]]:
    if path is None:
        return None
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class Gateway:
    def __init__(self, settings: Settings, engines: Engines, sip: bool = True) -> None:
        self.settings = settings
        self.engines = engines
        self.behaviour = behaviour_from(settings)
        self.use_sip = sip
        self.websocket = WebSocketTransport(
            settings.public_host, settings.voice_ws_port, settings.allowed_origins, health=self.health, max_calls=settings.voice_max_web_calls
        )
        self.sip = None
        self.calls: set[CallConnection] = set()
        self.stopping = False
        self.calls_total = 0
        self.underruns = 0
        self.metrics = metrics.instruments()
        for transport in metrics.TRANSPORTS:  # every series exists from the start, at 0
            self.metrics.calls.labels(transport=transport)
        for component in ("dialogue", "transfer", "recognition", "synthesis", "voice"):
            self.metrics.errors.labels(component=component)

    async def handle(self, connection: CallConnection) -> None:
        if self.stopping:  # a call that came in while the process stops: the apology at once
            connection.events.put_nowait(ShutdownFrame())
        self.calls.add(connection)
        self.calls_total += 1
        self.metrics.calls.labels(transport=connection.transport_name).inc()
        self.metrics.active_calls.inc()
        try:
            await run_call(connection, self.engines, self.behaviour)
        finally:
            self.calls.discard(connection)
            self.metrics.active_calls.dec()
            self.underruns += connection.playout.underruns

    def health(self) -> dict:
        """Counts only: this answers on the public bind, where a call's id (its Rasa conversation) or its caller
        (a phone number) must not be read by anyone. Which call was whose is in Rasa's conversation store."""
        transports = collections.Counter(c.transport_name for c in self.calls)
        return {
            "status": "ok",
            "active_calls": len(self.calls),
            "active_by_transport": {transport: transports[transport] for transport in metrics.TRANSPORTS},
            "calls_total": self.calls_total,
            "underruns": self.underruns + sum(c.playout.underruns for c in self.calls),
        }

    async def start(self) -> None:
        await self.websocket.start(self.handle)
        if self.use_sip:
            from voice_gateway.sip_transport import SipTransport

            s = self.settings
            self.sip = SipTransport(
                host=s.sip_host,
                port=s.sip_port,
                allowed_peers=s.sip_allowed_peers,
                log_file=s.log_dir / f"pjsip-{s.sip_port}.log",  # one per voice process
                log_messages=s.log_content,
                log_backups=s.log_backups,
            )
            await self.sip.start(self.handle)
            logger.info("SIP calls on %s:%d (peers allowed: %s)", s.sip_host, s.sip_port, ", ".join(s.sip_allowed_peers) or "all")

    async def end_calls(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Each call in progress hears the apology and is hung up; those still there after `grace` seconds are cut
        by `stop`. What a process stopping (SIGTERM: `accueil run`'s Ctrl-C, systemd, a restart) does first."""
        self.stopping = True
        for connection in list(self.calls):
            connection.events.put_nowait(ShutdownFrame())
        deadline = asyncio.get_running_loop().time() + grace
        while self.calls and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.sip is not None:
            await self.sip.stop()
        await self.websocket.stop()


async def serve(settings: Settings, phrases_file: Optional[Path] = None, sip: bool = True) -> None:
    """Run the gateway until SIGTERM or SIGINT."""
    vosk_dir = vosk_model_dir(settings.vosk_model, settings.models_dir)
    voice = piper_voice_file(settings.piper_voice, settings.models_dir)
    phrases = read_phrases(phrases_file) if settings.voice_phrase_list else None
    logger.info("loading Vosk model %s and Piper voice %s", vosk_dir, voice)
    stt = VoskSpeechToText(vosk_dir, phrases)
    tts = PiperTextToSpeech(voice)
    dialogue = RasaDialogue(
        settings.rasa_api_url,  # the private door: the voice webhook does not answer on the public one
        api_token=settings.rasa_api_token,
        webhook_secret=voice_webhook_secret(settings),
    )
    gateway = Gateway(settings, Engines(stt, tts, dialogue), sip=sip)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await gateway.start()
        logger.info("voice gateway ready")
        await stop.wait()
        await gateway.end_calls()
    finally:
        await gateway.stop()
        await dialogue.close()
        tts.close()
        stt.close()
