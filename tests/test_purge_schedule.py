"""The daily purge of `accueil run`: when it runs (hospital clock moved by hand), what it logs, how it fails."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from accueil.purge_schedule import DailyPurge, _run_purge, start_daily_purge
from accueil.retention import cutoff_for, purge
from core.settings import Settings
from tests.conftest import sqlite_settings
from tests.test_retention_erase import KEPT, PURGED, save_conversation

START = dt.datetime(2026, 11, 24, 10, 0)  # local time, naive, as settings.now() gives it


class Clock:
    """The hospital's clock, moved by the test."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return sqlite_settings(tmp_path, clock=START)


def senders(settings: Settings) -> set[str]:
    engine = create_engine(settings.conversations_db_url, future=True)
    with engine.connect() as connection:
        found = set(connection.scalars(text("SELECT DISTINCT sender_id FROM events")))
    engine.dispose()
    return found


def at_utc(local: dt.datetime) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return local.replace(tzinfo=ZoneInfo("Europe/Paris")).astimezone(dt.timezone.utc)


def test_the_purge_run_is_accueil_purge_with_the_retention_setting(settings: Settings) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    save_conversation(settings.conversations_db_url, "old", PURGED, now - dt.timedelta(days=31))
    save_conversation(settings.conversations_db_url, "recent", KEPT, now - dt.timedelta(days=29))
    counts = _run_purge(settings.copy(update={"retention_days": 30}), START)
    assert senders(settings) == {"recent"}
    assert [(count.table, count.rows) for count in counts if count.table == "events"] == [("events", 2)]


def test_purges_at_first_start_then_every_day_at_purge_time(settings: Settings, caplog) -> None:
    save_conversation(settings.conversations_db_url, "old", PURGED, at_utc(START) - dt.timedelta(days=91))
    save_conversation(settings.conversations_db_url, "aging", KEPT, at_utc(START) - dt.timedelta(days=89))
    runs: list[dt.datetime] = []

    def run(settings: Settings, now: dt.datetime) -> list:
        """The real purge, its cutoff taken on the test's clock (the real one takes the real time)."""
        runs.append(now)
        return purge(settings, cutoff_for(dt.timedelta(days=settings.retention_days), at_utc(now)))

    clock = Clock(START)
    schedule = DailyPurge(settings, now=clock, run=run)
    caplog.set_level(logging.INFO, logger="accueil.purge")

    assert schedule.tick()  # never purged: at once
    assert senders(settings) == {"aging"}
    assert schedule.last_purge() == START and schedule.next_at == dt.datetime(2026, 11, 25, 3, 30)
    (record,) = caplog.records
    assert record.getMessage() == "Purge quotidienne (données de plus de 90 jours) : events 2. Prochaine le 25/11/2026 à 03:30."

    for moment in (START + dt.timedelta(minutes=1), dt.datetime(2026, 11, 25, 3, 29, 59)):
        clock.at = moment
        assert not schedule.tick()
    clock.at = dt.datetime(2026, 11, 25, 3, 30)
    assert schedule.tick()
    assert senders(settings) == {"aging"}  # 89 days 17½ hours old: still within the 90 days
    clock.at = dt.datetime(2026, 11, 26, 3, 30, 20)
    assert schedule.tick()
    assert not senders(settings)
    assert runs == [START, dt.datetime(2026, 11, 25, 3, 30), dt.datetime(2026, 11, 26, 3, 30, 20)]
    assert schedule.next_at == dt.datetime(2026, 11, 27, 3, 30)
    assert PURGED not in caplog.text and KEPT not in caplog.text


def test_a_restart_purges_only_if_the_last_purge_is_over_a_day_old(settings: Settings) -> None:
    runs: list[dt.datetime] = []
    (settings.var_dir / "last_purge").write_text((START - dt.timedelta(hours=20)).isoformat())
    schedule = DailyPurge(settings, run=lambda s, now: runs.append(now) or [])  # settings.now(): the fixed clock
    assert not schedule.tick() and runs == []
    assert schedule.next_at == dt.datetime(2026, 11, 25, 3, 30)

    (settings.var_dir / "last_purge").write_text((START - dt.timedelta(days=1, minutes=1)).isoformat())
    assert DailyPurge(settings, run=lambda s, now: runs.append(now) or []).tick()
    assert runs == [START]

    settings = settings.copy(update={"purge_time": dt.time(11, 0)})
    schedule = DailyPurge(settings, run=lambda s, now: runs.append(now) or [])
    assert not schedule.tick()  # purged just now (the stamp of the run above)
    assert schedule.next_at == dt.datetime(2026, 11, 24, 11, 0)  # later today


def test_a_failure_is_logged_without_data_retried_the_next_day_and_never_raises(settings: Settings, caplog) -> None:
    broken = settings.copy(update={"tracker_db_url": "postgresql+psycopg2://accueil@127.0.0.1:1/absente"})
    clock = Clock(START)
    schedule = DailyPurge(broken, now=clock)
    caplog.set_level(logging.INFO, logger="accueil.purge")

    assert schedule.tick()
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert record.getMessage().startswith("Purge quotidienne échouée (OperationalError : ")
    assert record.getMessage().endswith("nouvel essai le 25/11/2026 à 03:30.")
    assert "SELECT" not in record.getMessage() and "DELETE" not in record.getMessage()
    assert schedule.last_purge() is None

    clock.at = START + dt.timedelta(hours=12)
    assert not schedule.tick()  # not before the next day's purge time
    clock.at = dt.datetime(2026, 11, 25, 3, 30)
    schedule.settings = settings  # the database is back
    assert schedule.tick()
    assert schedule.last_purge() == dt.datetime(2026, 11, 25, 3, 30)
    assert caplog.records[-1].levelno == logging.INFO


def test_the_thread_survives_errors_and_stops_cleanly(settings: Settings, caplog) -> None:
    purged = threading.Event()
    calls = []

    def flaky_clock() -> dt.datetime:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("horloge illisible")
        return START

    def run(settings: Settings, now: dt.datetime) -> list:
        purged.set()
        return []

    schedule = DailyPurge(settings, now=flaky_clock, run=run).start(interval=0.01)
    try:
        assert purged.wait(5)
        assert schedule._thread.is_alive()
    finally:
        schedule.stop()
    assert not schedule._thread.is_alive()
    assert "erreur du planificateur" in caplog.text


def test_switched_off_by_setting(settings: Settings) -> None:
    assert start_daily_purge(settings.copy(update={"purge_daily": False})) is None
    running = start_daily_purge(settings)
    try:
        assert isinstance(running, DailyPurge)
    finally:
        running.stop()
