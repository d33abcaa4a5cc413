"""The Prometheus metrics: Rasa's events counted by the broker as its tracker store saves them, several processes added up."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path

import prometheus_client.values
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, UserUttered
from rasa.utils.endpoints import read_endpoint_config

from accueil.rasa_endpoints import write_endpoints
from accueil.servers import ManagedProcess
from bot.metrics_broker import MetricsBroker
from core import metrics
from core.settings import PROJECT_ROOT, Settings


def samples(text: str | bytes) -> dict[tuple, float]:
    """Prometheus text → {(sample name, (label, value)…): value}."""
    text = text.decode() if isinstance(text, bytes) else text
    return {
        (sample.name, *sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(folder: Path, name: str, **labels: str) -> float:
    return samples(metrics.render(folder)).get((name, *sorted(labels.items())), 0.0)


@pytest.fixture
def metrics_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This process writes its metrics into a fresh multiprocess folder, as Accueil's servers do."""
    folder = tmp_path / "metrics"
    metrics.reset(folder)
    monkeypatch.setenv(metrics.MULTIPROC_ENV, str(folder))
    # prometheus_client chose its value class when first imported: give it the multiprocess one.
    monkeypatch.setattr(prometheus_client.values, "ValueClass", prometheus_client.values.MultiProcessValue())
    metrics.instruments.cache_clear()
    yield folder
    metrics.instruments.cache_clear()


def user(text: str, intent: str, channel: str, at: float) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.9}, input_channel=channel, timestamp=at)


def action(name: str, at: float) -> ActionExecuted:
    return ActionExecuted(name, timestamp=at)


class Rasa:
    """Rasa's own tracker store with the broker: each `turn` is saved, so Rasa publishes its new events."""

    def __init__(self) -> None:
        self.broker = MetricsBroker()
        self.store = InMemoryTrackerStore(Domain.empty(), event_broker=self.broker)

    def turn(self, sender: str, *events: Event) -> None:
        async def save() -> None:
            tracker = await self.store.get_or_create_tracker(sender)
            for event in events:
                tracker.update(event)
            await self.store.save(tracker)

        asyncio.run(save())


def test_each_message_is_counted_on_its_channel_with_the_time_until_the_bot_listens_again(metrics_dir: Path) -> None:
    rasa = Rasa()
    rasa.turn("web-1", action("action_session_start", 99.0), SessionStarted(timestamp=99.0), action("action_listen", 99.0))
    rasa.turn("web-1", user("bonjour", "greet", "rest", 100.0), action("utter_greet", 100.1), action("action_listen", 100.4))
    rasa.turn("web-1", user("les horaires du labo", "ask_opening_hours", "rest", 110.0), action("action_opening_hours", 111.0),
              action("action_listen", 111.5))  # fmt: skip
    rasa.turn("widget-2", user("bonjour", "greet", "socketio", 120.0), action("action_listen", 120.2))
    rasa.turn("call-3", user("/greet", "greet", "voice", 130.0), action("utter_greet", 130.1), action("action_listen", 132.0))

    assert value(metrics_dir, "accueil_messages_total", channel="web") == 3
    assert value(metrics_dir, "accueil_messages_total", channel="voice") == 1
    assert value(metrics_dir, "accueil_response_seconds_count", channel="web") == 3
    assert value(metrics_dir, "accueil_response_seconds_sum", channel="web") == pytest.approx(0.4 + 1.5 + 0.2)
    assert value(metrics_dir, "accueil_response_seconds_bucket", channel="web", le="0.25") == 1
    assert value(metrics_dir, "accueil_response_seconds_bucket", channel="web", le="0.5") == 2
    assert value(metrics_dir, "accueil_response_seconds_bucket", channel="web", le="2.0") == 3
    assert value(metrics_dir, "accueil_response_seconds_sum", channel="voice") == pytest.approx(2.0)
    # The first action_listen of a conversation answers no message; nothing else was counted.
    assert value(metrics_dir, "accueil_fallbacks_total", channel="web") == 0
    assert value(metrics_dir, "accueil_handovers_total", channel="web", kind="callback") == 0


def test_a_fallback_is_counted_once_per_message_whether_the_nlu_or_the_suggestions_said_it(metrics_dir: Path) -> None:
    rasa = Rasa()
    rasa.turn("s", user("zorglub", "nlu_fallback", "rest", 1.0), action("action_fallback_suggestions", 1.1), action("action_listen", 1.2))
    rasa.turn("s", user("la météo demain", "out_of_scope", "rest", 2.0), action("action_fallback_suggestions", 2.1),
              action("action_listen", 2.2))  # fmt: skip
    rasa.turn("s", user("glop", "nlu_fallback", "rest", 3.0), action("action_listen", 3.1))
    rasa.turn("s", user("les visites", "ask_visiting_hours", "rest", 4.0), action("action_visiting_hours", 4.1), action("action_listen", 4.2))

    assert value(metrics_dir, "accueil_fallbacks_total", channel="web") == 3
    assert value(metrics_dir, "accueil_messages_total", channel="web") == 4


def test_handovers_and_emergencies_are_counted_on_the_channel_of_their_conversation(metrics_dir: Path) -> None:
    rasa = Rasa()
    rasa.turn("call", user("je veux parler à quelqu'un", "request_human", "voice", 1.0), action("action_handover", 1.1), action("action_listen", 1.2))
    rasa.turn("call", user("oui", "affirm", "voice", 2.0), action("action_transfer", 2.1), action("action_listen", 2.2))
    rasa.turn("chat", user("Jeanne Martin", "inform", "rest", 3.0), action("action_save_callback", 3.1), action("action_listen", 3.2))
    rasa.turn("chat2", user("il ne respire plus", "emergency", "socketio", 4.0), action("utter_emergency", 4.1), action("action_listen", 4.2))

    assert value(metrics_dir, "accueil_handovers_total", channel="voice", kind="transfer") == 1
    assert value(metrics_dir, "accueil_handovers_total", channel="voice", kind="callback") == 0
    assert value(metrics_dir, "accueil_handovers_total", channel="web", kind="callback") == 1
    assert value(metrics_dir, "accueil_handovers_total", channel="web", kind="transfer") == 0
    assert value(metrics_dir, "accueil_emergencies_total", channel="web") == 1
    assert value(metrics_dir, "accueil_emergencies_total", channel="voice") == 0


def test_an_event_the_broker_cannot_read_never_stops_the_conversation_from_being_saved(metrics_dir: Path) -> None:
    broker = MetricsBroker()
    broker.publish(user("bonjour", "greet", "rest", 1.0).as_dict() | {"sender_id": "s"})
    broker.publish({"sender_id": "s", "event": "action", "name": "action_listen", "timestamp": "not a time"})
    broker.publish({"sender_id": "s", "event": "user", "parse_data": "not a dict"})
    assert value(metrics_dir, "accueil_messages_total", channel="web") == 1
    assert value(metrics_dir, "accueil_response_seconds_count", channel="web") == 0


def test_rasa_failing_to_run_a_custom_action_is_counted_from_its_log(metrics_dir: Path) -> None:
    MetricsBroker()
    processor_log = logging.getLogger("rasa.core.processor")
    processor_log.error("Encountered an exception while running action 'action_opening_hours'.Bot will continue, but …")
    processor_log.error("Something else went wrong")
    MetricsBroker()  # a second broker does not count twice
    processor_log.error("Encountered an exception while running action 'action_transfer'.Bot will continue, but …")
    assert value(metrics_dir, "accueil_errors_total", component="action_server") == 2


def test_rasa_loads_the_broker_from_the_endpoints_file_accueil_writes(tmp_path: Path, metrics_dir: Path, monkeypatch) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    monkeypatch.setenv("ACCUEIL_ACTION_ENDPOINT_URL", settings.action_endpoint_url)
    path = write_endpoints(settings)
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["event_broker"] == {"type": "bot.metrics_broker.MetricsBroker"}
    broker = asyncio.run(EventBroker.create(read_endpoint_config(str(path), "event_broker")))
    assert isinstance(broker, MetricsBroker)


def test_a_hospitals_own_event_broker_is_kept(tmp_path: Path) -> None:
    bot = tmp_path / "bot"
    bot.mkdir()
    (bot / "endpoints.yml").write_text("event_broker:\n  type: kafka\n  url: kafka.hopital.local\n", encoding="utf-8")
    path = write_endpoints(Settings(var_dir=tmp_path / "var", bot_dir=bot))
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["event_broker"] == {"type": "kafka", "url": "kafka.hopital.local"}


CHILD = """
import sys, time
from core import metrics
m = metrics.instruments()
m.active_calls.inc(2)
m.calls.labels(transport="sip").inc(3)
print("ready", flush=True)
time.sleep(60)
"""


def test_the_processes_values_add_up_and_a_stopped_process_has_no_call_in_progress(metrics_dir: Path, tmp_path: Path) -> None:
    here = metrics.instruments()
    here.active_calls.inc()
    here.calls.labels(transport="sip").inc()
    settings = Settings(var_dir=tmp_path / "var")
    env = settings.rasa_environment() | {metrics.MULTIPROC_ENV: str(metrics_dir)}
    child = ManagedProcess("child", [sys.executable, "-c", CHILD], "http://unused", tmp_path / "child.log", env, PROJECT_ROOT)
    child.start()
    try:
        deadline = time.monotonic() + 60
        while "ready" not in child.log_tail() and time.monotonic() < deadline:
            assert child.process.poll() is None, child.log_tail()
            time.sleep(0.1)
        assert value(metrics_dir, "accueil_active_calls") == 3
        assert value(metrics_dir, "accueil_calls_total", transport="sip") == 4
    finally:
        child.stop()
    assert value(metrics_dir, "accueil_active_calls") == 1  # the child's calls ended with it
    assert value(metrics_dir, "accueil_calls_total", transport="sip") == 4  # what it counted stays


def test_the_settings_give_every_server_the_metrics_folder(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    assert settings.rasa_environment()[metrics.MULTIPROC_ENV] == str(tmp_path / "var" / "metrics")
    (settings.metrics_dir / "counter_1.db").parent.mkdir(parents=True)
    (settings.metrics_dir / "counter_1.db").write_bytes(b"old run")
    metrics.reset(settings.metrics_dir)
    assert list(settings.metrics_dir.iterdir()) == []
