"""Benchmark: training time, startup time and REST webhook latency (p50/p95) of the assistant.

Run with `make bench` (or `uv run python bench/chat_latency.py --messages 200`).
It trains a fresh model into a temporary folder (or takes `--model`), starts the
action server and Rasa on free ports against a fresh demo knowledge base and
conversation store (SQLite, with the metrics' event broker, as `accueil run`
does), sends French questions one after the other, and prints the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

os.environ["RASA_TELEMETRY_ENABLED"] = "false"

import requests  # noqa: E402
from support import free_port, percentile  # noqa: E402  (bench/support.py)
from tqdm import tqdm  # noqa: E402

from accueil.servers import action_server, rasa_server, running  # noqa: E402
from accueil.training import train_if_needed  # noqa: E402
from core.settings import Settings  # noqa: E402
from kb_sync.sources import configured_source  # noqa: E402
from kb_sync.sync import sync  # noqa: E402

QUESTIONS = [
    "bonjour",
    "c est quoi les horaires de visite",
    "le labo ouvre a quelle heure le samedi",
    "je dois être à jeun combien de temps avant l'opération",
    "on peut venir voir un proche en réanimation ?",
    "horaires de la cafétéria",
    "je voudrais parler à quelqu'un",
    "les urgences sont ouvertes la nuit ?",
    "merci beaucoup",
    "au revoir",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200, help="messages to time (default 200)")
    parser.add_argument("--model", type=Path, help="a trained model to serve instead of training one (no training time)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        # An empty cache: Rasa would otherwise reuse components trained before, and time nothing.
        os.environ["RASA_CACHE_DIRECTORY"] = str(var / "rasa-cache")
        settings = Settings(
            db_url=f"sqlite:///{var / 'kb.db'}", var_dir=var, rasa_port=free_port(), rasa_replica_port=free_port(), public_rasa_port=free_port(), actions_port=free_port(),
            rate_limit_sender=0, rate_limit_address=0,  # one client timing as fast as the server answers
        )
        sync(configured_source(settings), settings.db_url)

        if args.model:
            model, training_seconds = args.model.resolve(), None
        else:
            print("Training a fresh model…", flush=True)
            training = train_if_needed(settings, force=True, out_dir=var / "models", quiet=True)
            model, training_seconds = training.model, training.seconds

        started = time.perf_counter()
        processes = [action_server(settings, settings.log_dir), rasa_server(settings, model, settings.log_dir)]
        with running(processes, timeout=settings.startup_timeout):
            startup = time.perf_counter() - started
            url = f"http://{settings.host}:{settings.rasa_port}/webhooks/rest/webhook"
            requests.post(url, json={"sender": "warmup", "message": "bonjour"}, timeout=60).raise_for_status()
            latencies = []
            sender = uuid.uuid4().hex
            for i in tqdm(range(args.messages), desc="messages", unit="msg", mininterval=2):
                if i % len(QUESTIONS) == 0:
                    sender = uuid.uuid4().hex
                began = time.perf_counter()
                response = requests.post(url, json={"sender": sender, "message": QUESTIONS[i % len(QUESTIONS)]}, timeout=60)
                response.raise_for_status()
                latencies.append((time.perf_counter() - began) * 1000)

    if training_seconds is not None:
        print(f"training time      {training_seconds:8.1f} s")
    print(f"startup time       {startup:8.1f} s  (action server + Rasa, until both answer)")
    print(f"messages           {len(latencies):8d}")
    print(f"latency p50        {statistics.median(latencies):8.1f} ms")
    print(f"latency p95        {percentile(latencies, 0.95):8.1f} ms")
    print(f"latency max        {max(latencies):8.1f} ms")


if __name__ == "__main__":
    main()
