"""A purge really erases: no purged byte left in the SQLite files (nor their WAL or journal), PostgreSQL vacuumed."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, event, text

from accueil.rasa_endpoints import tracker_store_config
from accueil.retention import cutoff_for, purge
from actions.records import HandoverRequest, save
from core.settings import Settings

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
OLD, RECENT = NOW - dt.timedelta(days=120), NOW - dt.timedelta(days=1)
PURGED = "Zorglub-Marcelline-0699887766"  # what an old conversation said: must vanish
KEPT = "Kept-Anatole-0611223344"  # a recent one: must stay, and shows the byte search finds what is there


def save_conversation(tracker_url: str, sender_id: str, said: str, at: dt.datetime) -> None:
    """A patient message and the bot's answer, written by Rasa's own SQL tracker store."""
    config = {k: v for k, v in tracker_store_config(tracker_url).items() if k != "type"}

    async def run() -> None:
        store = SQLTrackerStore(**config)
        tracker = DialogueStateTracker(sender_id, slots=[])
        for index, event in enumerate([UserUttered(f"je suis {said}", {"name": "greet", "confidence": 0.9}), BotUttered(f"Bonjour {said}")]):
            event.timestamp = at.timestamp() + index
            tracker.update(event)
        await store.save(tracker)
        store.engine.dispose()

    asyncio.run(run())


def handover(said: str, at: dt.datetime) -> HandoverRequest:
    return HandoverRequest(
        sender_id=said, channel="voice", kind="callback", service="admissions", summary=f"rappeler {said}",
        phone="0612345678", created_at=at.replace(tzinfo=None),
    )  # fmt: skip


def fill(settings: Settings) -> None:
    for said, at in ((PURGED, OLD), (KEPT, RECENT)):
        save_conversation(settings.conversations_db_url, said, said, at)
        save(settings.db_url, handover(said, at))


def raw_bytes(folder: Path) -> bytes:
    """Every byte of every database file and its companions (-wal, -shm, -journal) in the folder."""
    return b"".join(path.read_bytes() for path in sorted(folder.iterdir()) if ".db" in path.name)


def test_sqlite_files_keep_no_byte_of_what_was_purged(tmp_path: Path) -> None:
    folder = tmp_path / "var"
    folder.mkdir()
    settings = Settings(
        db_url=f"sqlite:///{folder / 'accueil.db'}", tracker_db_url=f"sqlite:///{folder / 'conversations.db'}", var_dir=folder
    )
    fill(settings)
    assert raw_bytes(folder).count(PURGED.encode()) >= 3  # the message, the bot's answer, the handover summary

    counts = purge(settings, cutoff_for(dt.timedelta(days=90), NOW))

    assert {count.table: count.rows for count in counts}["events"] == 2
    assert {count.table: count.rows for count in counts}["handover_requests"] == 1
    data = raw_bytes(folder)
    assert PURGED.encode() not in data
    assert data.count(KEPT.encode()) >= 3
    # The knowledge base's database is in WAL mode: its WAL was checkpointed into the file and emptied.
    wal = folder / "accueil.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert not (folder / "conversations.db-journal").exists()


def test_vacuum_erases_what_a_connection_without_secure_delete_left(tmp_path: Path) -> None:
    """Rows deleted earlier by a connection that did not overwrite them (another program, an older Accueil)
    stay readable in the file until the next purge rebuilds it."""
    folder = tmp_path / "var"
    folder.mkdir()
    settings = Settings(
        db_url=f"sqlite:///{folder / 'accueil.db'}", tracker_db_url=f"sqlite:///{folder / 'conversations.db'}", var_dir=folder
    )
    fill(settings)
    for name, table, column in (("conversations.db", "events", "sender_id"), ("accueil.db", "handover_requests", "sender_id")):
        connection = sqlite3.connect(folder / name)
        connection.execute("PRAGMA secure_delete=OFF")
        connection.execute(f"DELETE FROM {table} WHERE {column} = ?", (PURGED,))
        connection.commit()
        connection.close()
    assert PURGED.encode() in raw_bytes(folder)  # deleted, yet still in the file

    counts = purge(settings, cutoff_for(dt.timedelta(days=90), NOW))

    assert not any(count.rows for count in counts if count.table in ("events", "handover_requests"))
    assert PURGED.encode() not in raw_bytes(folder)
    assert KEPT.encode() in raw_bytes(folder)


def _retention_engine(url: str):
    from accueil.retention import _engine

    return _engine(url)


def _application_engine(url: str):
    from store.engine import get_engine

    get_engine.cache_clear()
    return get_engine(url)


@pytest.mark.parametrize("make_engine", [_retention_engine, _application_engine], ids=["purge", "application"])
def test_connections_overwrite_what_they_delete(tmp_path: Path, make_engine) -> None:
    """Accueil's connections turn secure_delete on themselves, even on an SQLite built without it by default."""
    folder = tmp_path / "db"
    folder.mkdir()
    engine = make_engine(f"sqlite:///{folder / 'accueil.db'}")
    # An SQLite built without SQLITE_SECURE_DELETE: off before Accueil's own listeners run.
    event.listen(engine, "connect", lambda connection, _: connection.execute("PRAGMA secure_delete=OFF"), insert=True)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, said TEXT)")
        connection.exec_driver_sql("INSERT INTO notes (said) VALUES (?), (?)", (PURGED, KEPT))
    with engine.begin() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        connection.exec_driver_sql("DELETE FROM notes WHERE said = ?", (PURGED,))
    engine.dispose()
    assert PURGED.encode() not in raw_bytes(folder) and KEPT.encode() in raw_bytes(folder)


def pages_holding(connection, relation: str, needle: str) -> int:
    """How many raw 8 kB pages of a table or index contain `needle` (pageinspect reads them, dead tuples included)."""
    return connection.scalar(
        text(
            "SELECT count(*) FROM generate_series(0, pg_relation_size(CAST(:r AS regclass)) / 8192 - 1) AS p "
            "WHERE position(CAST(:n AS bytea) IN get_raw_page(:r, CAST(p AS int))) > 0"
        ),
        {"r": relation, "n": needle},
    )


def wait_for_no_other_snapshot(connection, timeout: float = 60.0) -> None:
    """Wait until no other session of this database holds a snapshot (an autovacuum ANALYZE, say) and no transaction
    of any database holds an xid: either keeps the rows a vacuum would erase."""
    deadline = time.monotonic() + timeout
    while connection.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND (backend_xid IS NOT NULL "
            "OR (datname = current_database() AND backend_xmin IS NOT NULL))"
        )
    ):
        assert time.monotonic() < deadline, "another session kept its snapshot or transaction for a minute"
        time.sleep(0.1)


@pytest.mark.alone
@pytest.mark.parametrize("full", [False, True], ids=["vacuum", "vacuum-full"])
def test_postgresql_purged_tables_are_vacuumed(pg_url: str, tmp_path: Path, full: bool) -> None:
    settings = Settings(db_url=pg_url, tracker_db_url=pg_url, var_dir=tmp_path, purge_vacuum_full=full)
    fill(settings)
    engine = create_engine(pg_url, future=True, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pageinspect")
        # An autovacuum ANALYZE started by the inserts, on any table of the database, holds a snapshot under which
        # VACUUM must keep the dead rows (it happens on a loaded machine): the test measures the purge alone. In
        # service, the next day's purge erases what a transaction running at 03:30 still saw (docs/security.md).
        for table in connection.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")):
            connection.exec_driver_sql(f'ALTER TABLE "{table}" SET (autovacuum_enabled = false)')
        wait_for_no_other_snapshot(connection)
        assert pages_holding(connection, "events", PURGED) == 1

    purge(settings, cutoff_for(dt.timedelta(days=90), NOW))

    with engine.connect() as connection:
        stats = dict(
            connection.execute(
                text(
                    "SELECT relname, n_dead_tup FROM pg_stat_user_tables "
                    "WHERE relname IN ('events', 'handover_requests') AND last_vacuum IS NOT NULL"
                )
            ).all()
        )
        if full:  # a VACUUM FULL is a rewrite, not counted as a vacuum by pg_stat: the pages tell
            indexes = connection.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'events'")).all()
            for relation in ["events", "handover_requests", *indexes]:
                assert pages_holding(connection, relation, PURGED) == 0, relation
                assert pages_holding(connection, relation, KEPT[:10]) in (0, 1)
            assert pages_holding(connection, "events", KEPT) == 1
        else:
            assert stats == {"events": 0, "handover_requests": 0}
    engine.dispose()
