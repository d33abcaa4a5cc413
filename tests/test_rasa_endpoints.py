"""The endpoints file Rasa starts with: the action server from bot/endpoints.yml, the SQL conversation store from the settings."""

from __future__ import annotations

import asyncio
import stat

import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from accueil.rasa_endpoints import tracker_store_config, write_endpoints
from bot.tracker_store import JournaledSQLTrackerStore
from core.settings import Settings


def test_the_conversations_go_to_sqlite_by_default_and_rasa_reads_the_file(tmp_path) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    path = write_endpoints(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    endpoints = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert endpoints["action_endpoint"] == {"url": "${ACCUEIL_ACTION_ENDPOINT_URL}"}
    assert endpoints["tracker_store"] == {
        "type": "bot.tracker_store.JournaledSQLTrackerStore",  # Rasa's SQL store, with a local journal (test_tracker_journal.py)
        "dialect": "sqlite",
        "db": str(tmp_path / "var" / "conversations.db"),
        "journal": str(tmp_path / "var" / "conversation-journal.db"),
    }

    store = JournaledSQLTrackerStore(Domain.empty(), **{k: v for k, v in endpoints["tracker_store"].items() if k != "type"})
    tracker = DialogueStateTracker.from_events("patient-1", [UserUttered("bonjour", {"name": "greet", "confidence": 0.9})])
    asyncio.run(store.save(tracker))
    again = asyncio.run(store.retrieve("patient-1"))
    assert again.latest_message.text == "bonjour"


def test_a_postgresql_url_becomes_rasa_settings() -> None:
    config = tracker_store_config("postgresql+psycopg2://accueil:s3cret@db.hopital.local:5433/conversations?sslmode=require")
    assert config == {
        "type": "SQL",
        "dialect": "postgresql+psycopg2",
        "host": "db.hopital.local",
        "port": 5433,
        "db": "conversations",
        "username": "accueil",
        "password": "s3cret",
        "query": {"sslmode": "require"},
    }


def test_rasa_opens_a_postgresql_conversation_store_from_the_file(tmp_path, pg_url: str, monkeypatch) -> None:
    """Rasa's own reading of the file (as `rasa run` does): the server's address goes under `url`, not `host`."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints

    monkeypatch.setenv("ACCUEIL_ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    path = write_endpoints(Settings(var_dir=tmp_path / "var", tracker_db_url=pg_url))
    store = TrackerStore.create(AvailableEndpoints.read_endpoints(str(path)).tracker_store, Domain.empty())
    asyncio.run(store.save(DialogueStateTracker.from_events("patient-2", [UserUttered("bonjour", {"name": "greet"})])))
    assert asyncio.run(store.retrieve("patient-2")).latest_message.text == "bonjour"
    store.engine.dispose()
