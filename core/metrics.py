"""Accueil's Prometheus metrics, shared by its processes, and their exposition.

Every process `accueil run` starts gets `PROMETHEUS_MULTIPROC_DIR` (`Settings.metrics_dir`,
see `Settings.rasa_environment`): prometheus_client then keeps each process's values in files
of that folder, and `render` adds them up for the studio's `GET /metrics`. The folder is wiped
when `accueil run` starts. Written by: Rasa's event broker (`bot/metrics_broker.py`: messages,
fallbacks, handovers, emergencies, response times), the voice gateway (calls, voice response
times, its errors), the action server (failed actions) and `accueil run`'s supervisor (restarts of its
servers, which are up, which keep failing: accueil/supervision.py).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
TRANSPORTS = ("sip", "websocket")
RESPONSE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)
VOICE_RESPONSE_BUCKETS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


@dataclass(frozen=True)
class Instruments:
    messages: Counter
    fallbacks: Counter
    handovers: Counter
    emergencies: Counter
    response_seconds: Histogram
    active_calls: Gauge
    calls: Counter
    voice_response_seconds: Histogram
    errors: Counter


@lru_cache(maxsize=1)
def instruments() -> Instruments:
    """The metrics of this process, created on first use (after `PROMETHEUS_MULTIPROC_DIR` is set)."""
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
    # registry=None: in multiprocess mode only the files count; `render` reads them.
    return Instruments(
        messages=Counter("accueil_messages", "Patient messages received, by channel.", ["channel"], registry=None),
        fallbacks=Counter(
            "accueil_fallbacks", "Patient messages not understood (nlu_fallback, or the fallback suggestions ran).", ["channel"], registry=None
        ),
        handovers=Counter(
            "accueil_handovers", "Handovers to a human: transfers made and callback requests stored.", ["channel", "kind"], registry=None
        ),
        emergencies=Counter("accueil_emergencies", "Messages recognised as a vital emergency.", ["channel"], registry=None),
        response_seconds=Histogram(
            "accueil_response_seconds",
            "Rasa's processing of a message: from the message understood to the bot listening again (actions included).",
            ["channel"],
            buckets=RESPONSE_BUCKETS,
            registry=None,
        ),
        active_calls=Gauge("accueil_active_calls", "Phone calls in progress.", registry=None, multiprocess_mode="livesum"),
        calls=Counter("accueil_calls", "Phone calls answered, by transport.", ["transport"], registry=None),
        voice_response_seconds=Histogram(
            "accueil_voice_response_seconds",
            "From the end of the caller's speech to the first audio of the answer.",
            buckets=VOICE_RESPONSE_BUCKETS,
            registry=None,
        ),
        errors=Counter("accueil_errors", "Failures, by component.", ["component"], registry=None),
    )


def count_error(component: str) -> None:
    """One failure of `component`: `actions` (an action failed and apologised), `action_server` (Rasa could not
    run a custom action), `dialogue` (the voice gateway could not get Rasa's answer), `transfer`, `recognition`,
    `synthesis`, `voice` (any other failure in a call's pipeline)."""
    instruments().errors.labels(component=component).inc()


def reset(folder: Path) -> None:
    """An empty metrics folder: at each start, the counters of the previous run are gone."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)


def process_stopped(pid: int, folder: str | None) -> None:
    """Forget the live gauges (calls in progress) of a process that stopped."""
    if folder and Path(folder).is_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, folder)


@lru_cache(maxsize=None)
def _supervisor_value_class(folder: str):
    # Files of its own in `folder` (counter_supervisor-PID.db…), whatever value class prometheus_client chose when
    # first imported in `accueil run`, before the metrics folder was known. The class reads the folder from the
    # environment, where _supervisor_sample checked it is.
    from prometheus_client.values import MultiProcessValue

    return MultiProcessValue(lambda: f"supervisor-{os.getpid()}")


def _supervisor_sample(kind: str, metric: str, process: str):
    """One sample of the supervisor's metrics, kept in PROMETHEUS_MULTIPROC_DIR; None outside multiprocess mode."""
    folder = os.environ.get(MULTIPROC_ENV)
    if not folder:
        return None
    return _supervisor_value(folder, kind, metric, process)


@lru_cache(maxsize=None)
def _supervisor_value(folder: str, kind: str, metric: str, process: str):
    Path(folder).mkdir(parents=True, exist_ok=True)
    sample, help_text, mode = {
        "restarts": ("accueil_process_restarts_total", "Restarts of a server by `accueil run` after it stopped.", ""),
        "up": ("accueil_process_up", "1 while the server answers, 0 while it is down or restarting.", "max"),
        "failing": ("accueil_process_failing", "1 while the server keeps stopping (retried at the slowest pace).", "max"),
    }[metric]
    name = sample.removesuffix("_total")
    return _supervisor_value_class(folder)(kind, name, sample, ("process",), (process,), help_text, multiprocess_mode=mode)


def supervisor_restart(process: str) -> None:
    """`accueil_process_restarts_total{process}` + 1 (written by `accueil run`'s supervisor, accueil/supervision.py)."""
    value = _supervisor_sample("counter", "restarts", process)
    if value is not None:
        value.inc(1)


def supervisor_up(process: str, up: bool) -> None:
    value = _supervisor_sample("gauge", "up", process)
    if value is not None:
        value.set(1.0 if up else 0.0)


def supervisor_failing(process: str, failing: bool) -> None:
    value = _supervisor_sample("gauge", "failing", process)
    if value is not None:
        value.set(1.0 if failing else 0.0)


def render(folder: Path) -> bytes:
    """Every process's metrics, added up, in Prometheus's text format."""
    folder.mkdir(parents=True, exist_ok=True)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(folder))
    return generate_latest(registry)
