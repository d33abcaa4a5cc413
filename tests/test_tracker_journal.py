"""A message answered while the conversation store is away is not lost: it waits in the local journal.

Rasa's own `TrackerStore.create` reads the endpoints file Accueil writes, and its `FailSafeTrackerStore` wraps
the store as `rasa run` does. The PostgreSQL server is reached through the fault suite's TCP proxy, cut as a
stopped server would be; the SQLite store is locked by another writer.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
import time

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import make_url
from rasa.core.tracker_store import FailSafeTrackerStore, TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

from accueil.rasa_endpoints import JOURNAL_FILE, write_endpoints
from bot.tracker_store import JournaledSQLTrackerStore
from core.settings import Settings
from tests.conftest import free_port, sqlite_settings
from tests.faults.tcp_proxy import TcpProxy


class Published:
    """An event broker that remembers what it was given."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def publish(self, event: dict) -> None:
        self.events.append(event)


@pytest.fixture(autouse=True)
def _action_endpoint(monkeypatch) -> None:
    monkeypatch.setenv("ACCUEIL_ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")  # read by the endpoints file


def open_store(settings, broker=None) -> FailSafeTrackerStore:
    """The store as `rasa run` builds it from Accueil's endpoints file."""
    path = write_endpoints(settings)
    store = TrackerStore.create(AvailableEndpoints.read_endpoints(str(path)).tracker_store, Domain.empty(), broker)
    assert isinstance(store, JournaledSQLTrackerStore)
    return FailSafeTrackerStore(store)


def turn(store: FailSafeTrackerStore, sender: str, text: str) -> None:
    """One message and its answer, as Rasa's processor handles it: read, update, save."""

    async def run() -> None:
        tracker = await store.get_or_create_tracker(sender)
        tracker.update(UserUttered(text, {"name": "ask", "confidence": 0.9}))
        tracker.update(ActionExecuted("utter_answer"))
        tracker.update(BotUttered(f"réponse à {text}"))
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)

    asyncio.run(run())


def stored_texts(url: str, sender: str) -> list[str]:
    """The patient's messages in the database's `events` table, in their order."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as db:
            rows = db.execute(sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}).scalars()
            return [json.loads(row)["text"] for row in rows if json.loads(row)["event"] == "user"]
    finally:
        engine.dispose()


def test_messages_answered_while_postgresql_is_away_reach_it_when_it_is_back(tmp_path, pg_url: str) -> None:
    target = make_url(pg_url)
    with TcpProxy((target.host or "127.0.0.1", target.port or 5432), free_port()) as proxy:
        proxied = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        broker = Published()
        store = open_store(Settings(var_dir=tmp_path, tracker_db_url=proxied, db_wait_seconds=2), broker)
        turn(store, "patient-1", "bonjour")
        turn(store, "patient-2", "les horaires de visite ?")

        proxy.cut()  # PostgreSQL stopped: every save fails
        turn(store, "patient-1", "et le parking ?")  # answered: must not be lost
        turn(store, "patient-1", "merci")
        turn(store, "patient-3", "premier message pendant la coupure")
        # The patient goes on where he was, read from the journal while the database is away.
        tracker = asyncio.run(store.retrieve("patient-1"))
        assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["bonjour", "et le parking ?", "merci"]
        assert stored_texts(pg_url, "patient-1") == ["bonjour"]

        proxy.restore()
        turn(store, "patient-2", "et le dimanche ?")  # any save that succeeds writes the journal too
    assert stored_texts(pg_url, "patient-1") == ["bonjour", "et le parking ?", "merci"]
    assert stored_texts(pg_url, "patient-2") == ["les horaires de visite ?", "et le dimanche ?"]
    assert stored_texts(pg_url, "patient-3") == ["premier message pendant la coupure"]
    with sqlite3.connect(tmp_path / JOURNAL_FILE) as journal:
        assert journal.execute("SELECT count(*) FROM pending").fetchone() == (0,)
    assert stat.S_IMODE((tmp_path / JOURNAL_FILE).stat().st_mode) == 0o600  # patients' words: this user only
    # The event broker (Prometheus counts) got each message once, journal or not.
    assert [e["text"] for e in broker.events if e["event"] == "user"] == [
        "bonjour", "les horaires de visite ?", "et le parking ?", "merci", "premier message pendant la coupure", "et le dimanche ?"
    ]


def test_the_journal_is_written_when_rasa_starts_again(tmp_path) -> None:
    """Rasa killed while conversations wait in the journal: the next start writes them."""
    settings = sqlite_settings(tmp_path)
    store = open_store(settings)
    turn(store, "patient-1", "bonjour")
    database = tmp_path / "conversations.db"
    locker = sqlite3.connect(database, timeout=0)
    locker.execute("BEGIN IMMEDIATE")  # another writer holds SQLite for long
    try:
        turn(store, "patient-1", "pendant le verrou")
    finally:
        locker.rollback()
        locker.close()
    assert stored_texts(f"sqlite:///{database}", "patient-1") == ["bonjour"]

    open_store(settings)  # as at Rasa's next start
    assert stored_texts(f"sqlite:///{database}", "patient-1") == ["bonjour", "pendant le verrou"]


def test_a_new_conversation_started_while_the_store_is_away_keeps_its_session(tmp_path) -> None:
    settings = sqlite_settings(tmp_path)
    store = open_store(settings)
    database = tmp_path / "conversations.db"
    locker = sqlite3.connect(database, timeout=0)
    locker.execute("BEGIN IMMEDIATE")
    try:

        async def new_session() -> None:
            tracker = await store.get_or_create_tracker("patient-9")
            tracker.update(ActionExecuted("action_session_start"))
            tracker.update(SessionStarted())
            tracker.update(ActionExecuted("action_listen"))
            tracker.update(UserUttered("je voudrais un rendez-vous", {"name": "ask", "confidence": 0.9}))
            await store.save(tracker)

        asyncio.run(new_session())
    finally:
        locker.rollback()
        locker.close()
    turn(store, "patient-9", "en cardiologie")
    assert stored_texts(f"sqlite:///{database}", "patient-9") == ["je voudrais un rendez-vous", "en cardiologie"]
    tracker = asyncio.run(store.retrieve("patient-9"))
    assert any(isinstance(e, SessionStarted) for e in tracker.events)


def test_the_endpoints_file_names_the_journal_and_a_connect_timeout(tmp_path, pg_url: str) -> None:
    path = write_endpoints(Settings(var_dir=tmp_path, tracker_db_url=pg_url, db_wait_seconds=4))
    store = yaml.safe_load(path.read_text(encoding="utf-8"))["tracker_store"]
    assert store["type"] == "bot.tracker_store.JournaledSQLTrackerStore"
    assert store["journal"] == str(tmp_path / JOURNAL_FILE)
    assert store["query"]["connect_timeout"] == "4"



def test_only_the_conversations_of_the_last_minutes_are_kept_in_memory(tmp_path, monkeypatch) -> None:
    import bot.tracker_store

    monkeypatch.setattr(bot.tracker_store, "RECENT_SECONDS", 0.5)
    settings = sqlite_settings(tmp_path)
    store = open_store(settings)
    turn(store, "patient-silent", "bonjour")
    time.sleep(0.7)
    turn(store, "patient-talking", "bonjour")
    kept = store._tracker_store._recent
    assert list(kept) == ["patient-talking"]

    database = tmp_path / "conversations.db"
    locker = sqlite3.connect(database, timeout=0)
    locker.execute("BEGIN IMMEDIATE")
    try:  # the conversation kept in memory goes on while the store is away
        turn(store, "patient-talking", "et le parking ?")
        tracker = asyncio.run(store.retrieve("patient-talking"))
        assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["bonjour", "et le parking ?"]
    finally:
        locker.rollback()
        locker.close()
    turn(store, "patient-talking", "merci")
    assert stored_texts(f"sqlite:///{database}", "patient-talking") == ["bonjour", "et le parking ?", "merci"]
