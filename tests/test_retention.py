"""Retention (GDPR): `accueil purge` on Rasa-written tracker stores and real records, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, select, text

from accueil import cli, retention
from accueil.rasa_endpoints import tracker_store_config
from accueil.retention import PURGES, RetentionError, cutoff_for, parse_period, purge
from actions.records import AnswerFeedback, ContactRecord, HandoverRequest, save
from core.purging import PurgeCount
from core.settings import Settings, get_settings
from studio.db import session_scope
from studio.inbox import InboxDecision

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


def days_ago(days: float) -> dt.datetime:
    return NOW - days * DAY


def save_conversation(tracker_url: str, sender_id: str, times: list[dt.datetime]) -> None:
    """One user message, action and bot answer per given time, saved by Rasa's own SQL tracker store."""
    config = {k: v for k, v in tracker_store_config(tracker_url).items() if k != "type"}

    async def run() -> None:
        store = SQLTrackerStore(**config)
        tracker = await store.retrieve(sender_id) or DialogueStateTracker(sender_id, slots=[])
        for at in times:
            for index, event in enumerate(
                [
                    UserUttered("bonjour", {"name": "greet", "confidence": 0.9}),
                    ActionExecuted("utter_greet"),
                    BotUttered("Bonjour !"),
                ]
            ):
                event.timestamp = at.timestamp() + index
                tracker.update(event)
        await store.save(tracker)
        store.engine.dispose()

    asyncio.run(run())


def events_by_sender(tracker_url: str) -> dict[str, int]:
    engine = create_engine(tracker_url, future=True)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT sender_id, count(*) FROM events GROUP BY sender_id")).all()
    engine.dispose()
    return dict(rows)


def feedback(at: dt.datetime, sender: str) -> AnswerFeedback:
    return AnswerFeedback(
        sender_id=sender, channel="rest", intent="ask_visiting_hours", helpful=False, created_at=at.replace(tzinfo=None)
    )


def handover(at: dt.datetime, sender: str) -> HandoverRequest:
    return HandoverRequest(
        sender_id=sender,
        channel="voice",
        kind="callback",
        service="admissions",
        summary="compte rendu",
        phone="0612345678",
        created_at=at.replace(tzinfo=None),
    )


def contact(created: dt.datetime, updated: dt.datetime, key: str) -> ContactRecord:
    return ContactRecord(
        person_key="p" * 64, conversation_key=key, session_start=created.replace(tzinfo=None), channel="voice",
        reasons="request_report", created_at=created.replace(tzinfo=None), updated_at=updated.replace(tzinfo=None),
    )


def remaining(db_url: str) -> dict[str, list[str]]:
    """The sender ids (or keys) left in each dated table."""
    engine = create_engine(db_url, future=True)
    with engine.connect() as connection:
        left = {
            "answer_feedback": sorted(connection.scalars(select(AnswerFeedback.sender_id))),
            "handover_requests": sorted(connection.scalars(select(HandoverRequest.sender_id))),
            "contact_history": sorted(connection.scalars(select(ContactRecord.conversation_key))),
            "studio_inbox_decisions": sorted(connection.scalars(select(InboxDecision.key))),
        }
    engine.dispose()
    return left


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings on two SQLite files, or on one PostgreSQL database holding both (as a small production does)."""
    if request.param == "sqlite":
        return Settings(
            db_url=f"sqlite:///{tmp_path / 'accueil.db'}",
            tracker_db_url=f"sqlite:///{tmp_path / 'conversations.db'}",
            var_dir=tmp_path,
        )
    url = request.getfixturevalue("pg_url")
    return Settings(db_url=url, tracker_db_url=url, var_dir=tmp_path)


@pytest.fixture
def filled(settings: Settings) -> Settings:
    """Conversations and records of known ages around a 90-day cutoff."""
    tracker = settings.conversations_db_url
    save_conversation(tracker, "old", [days_ago(120), days_ago(100)])
    save_conversation(tracker, "just-past", [days_ago(90) - HOUR])
    save_conversation(tracker, "straddling", [days_ago(95), days_ago(89)])  # begun before the cutoff, still going on after it
    save_conversation(tracker, "just-within", [days_ago(90) + HOUR])
    save_conversation(tracker, "recent", [days_ago(1)])
    for at, sender in ((days_ago(91), "old"), (days_ago(89), "recent")):
        save(settings.db_url, feedback(at, sender))
    for at, sender in ((days_ago(200), "old"), (days_ago(90) - HOUR, "just-past"), (days_ago(90) + HOUR, "just-within")):
        save(settings.db_url, handover(at, sender))
    # A contact is kept while it goes on: the one begun 100 days ago and updated since stays.
    for created, updated, key in ((days_ago(120), days_ago(95), "old"), (days_ago(100), days_ago(2), "recent")):
        save(settings.db_url, contact(created, updated, key))
    with session_scope(settings) as db:
        for at, key in ((days_ago(100), "old"), (days_ago(3), "recent")):
            db.add(InboxDecision(key=key, kind="ignored", text="", username="marie", at=at.replace(tzinfo=None)))
    return settings


def test_purge_deletes_exactly_what_is_older_and_whole_conversations_only(filled: Settings) -> None:
    counts = purge(filled, cutoff_for(90 * DAY, NOW))

    assert counts == [
        PurgeCount("events", 9, "2 conversations"),
        PurgeCount("answer_feedback", 1),
        PurgeCount("handover_requests", 2),
        PurgeCount("contact_history", 1),
        PurgeCount("studio_inbox_decisions", 1),
    ]
    # "straddling" keeps its events older than the cutoff: a conversation is never cut in half.
    assert events_by_sender(filled.conversations_db_url) == {"straddling": 6, "just-within": 3, "recent": 3}
    assert remaining(filled.db_url) == {
        "answer_feedback": ["recent"],
        "handover_requests": ["just-within"],
        "contact_history": ["recent"],
        "studio_inbox_decisions": ["recent"],
    }
    assert purge(filled, cutoff_for(90 * DAY, NOW)) == [
        PurgeCount("events", 0, "0 conversation"),
        PurgeCount("answer_feedback", 0),
        PurgeCount("handover_requests", 0),
        PurgeCount("contact_history", 0),
        PurgeCount("studio_inbox_decisions", 0),
    ]
    # Once its last message is past the cutoff too, the straddling conversation goes, whole.
    purge(filled, cutoff_for(88 * DAY, NOW))
    assert events_by_sender(filled.conversations_db_url) == {"recent": 3}


def test_dry_run_counts_the_same_and_writes_nothing(filled: Settings) -> None:
    events_before, records_before = events_by_sender(filled.conversations_db_url), remaining(filled.db_url)
    cutoff = cutoff_for(90 * DAY, NOW)

    simulated = purge(filled, cutoff, dry_run=True)

    assert events_by_sender(filled.conversations_db_url) == events_before
    assert remaining(filled.db_url) == records_before
    assert simulated == purge(filled, cutoff)
    assert events_by_sender(filled.conversations_db_url) != events_before


def test_missing_databases_and_tables_are_skipped_and_never_created(tmp_path: Path) -> None:
    nothing = Settings(db_url=f"sqlite:///{tmp_path / 'a.db'}", tracker_db_url=f"sqlite:///{tmp_path / 'c.db'}", var_dir=tmp_path)
    assert purge(nothing, cutoff_for(90 * DAY)) == []
    assert not (tmp_path / "a.db").exists() and not (tmp_path / "c.db").exists()

    save(nothing.db_url, feedback(days_ago(100), "old"))  # the whole schema (one store), no Rasa table
    engine = create_engine(nothing.conversations_db_url, future=True)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE other (id INTEGER)"))  # a file without Rasa's events table
    engine.dispose()
    assert purge(nothing, cutoff_for(90 * DAY)) == [
        PurgeCount("answer_feedback", 1),
        PurgeCount("handover_requests", 0),
        PurgeCount("contact_history", 0),
        PurgeCount("studio_inbox_decisions", 0),
    ]


@pytest.mark.parametrize(
    ("text", "days"),
    [("90d", 90), ("90j", 90), ("90", 90), ("12w", 84), ("12s", 84), (" 1D ", 1)],
)
def test_period_grammar(text: str, days: int) -> None:
    assert parse_period(text) == dt.timedelta(days=days)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("90x", "Durée illisible"),
        ("3 mois", "Durée illisible"),
        ("-5d", "Durée illisible"),
        ("", "Durée illisible"),
        ("0d", "Durée trop courte"),
    ],
)
def test_bad_periods_are_refused_in_french(text: str, message: str) -> None:
    with pytest.raises(RetentionError, match=message):
        parse_period(text)


@pytest.fixture
def configured(filled: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI's settings pointed at the filled databases."""
    monkeypatch.setenv("ACCUEIL_DB_URL", filled.db_url)
    monkeypatch.setenv("ACCUEIL_TRACKER_DB_URL", filled.conversations_db_url)
    monkeypatch.setenv("ACCUEIL_VAR_DIR", str(filled.var_dir))
    get_settings.cache_clear()
    yield filled
    get_settings.cache_clear()


def test_cli_purge_uses_the_retention_setting_and_says_what_it_deleted(configured: Settings, monkeypatch, capsys) -> None:
    assert cli.main(["purge", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Simulation (rien n'a été effacé)" in out and "(90 jours)" in out
    assert "events                   9 lignes (2 conversations)" in out
    assert "handover_requests        2 lignes" in out and "answer_feedback          1 ligne\n" in out
    assert len(events_by_sender(configured.conversations_db_url)) == 5

    monkeypatch.setenv("ACCUEIL_RETENTION_DAYS", "150")
    get_settings.cache_clear()
    assert cli.main(["purge"]) == 0
    out = capsys.readouterr().out
    assert "(150 jours) effacées" in out
    assert "events                   0 ligne (0 conversation)" in out and "handover_requests        1 ligne\n" in out
    assert remaining(configured.db_url)["handover_requests"] == ["just-past", "just-within"]

    assert cli.main(["purge", "--older-than", "13w"]) == 0  # 91 days
    out = capsys.readouterr().out
    assert "(91 jours) effacées" in out and "events                   6 lignes (1 conversation)" in out
    assert set(events_by_sender(configured.conversations_db_url)) == {"just-past", "straddling", "just-within", "recent"}


def test_cli_refuses_a_bad_period_in_french_and_deletes_nothing(configured: Settings, capsys) -> None:
    before = events_by_sender(configured.conversations_db_url), remaining(configured.db_url)
    assert cli.main(["purge", "--older-than", "trois mois"]) == 1
    assert "Durée illisible : « trois mois »" in capsys.readouterr().out
    assert (events_by_sender(configured.conversations_db_url), remaining(configured.db_url)) == before


def test_registered_purges_run_with_the_others(configured: Settings, monkeypatch, capsys) -> None:
    seen = []

    def purge_projection(settings: Settings, cutoff: dt.datetime, dry_run: bool) -> PurgeCount:
        seen.append((settings.db_url, cutoff, dry_run))
        return PurgeCount("analytics_conversations", 4, "projection")

    monkeypatch.setattr(retention, "PURGES", [*PURGES, purge_projection])
    assert cli.main(["purge", "--dry-run", "--older-than", "30d"]) == 0
    assert "analytics_conversations  4 lignes (projection)" in capsys.readouterr().out
    ((db_url, cutoff, dry_run),) = seen
    assert db_url == configured.db_url and dry_run
    assert abs((dt.datetime.now(dt.timezone.utc) - cutoff) - 30 * DAY) < dt.timedelta(minutes=1)


def test_cli_reports_an_unreachable_database_in_french(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ACCUEIL_TRACKER_DB_URL", "postgresql+psycopg2://accueil@127.0.0.1:1/absente")
    monkeypatch.setenv("ACCUEIL_DB_URL", f"sqlite:///{tmp_path / 'accueil.db'}")
    get_settings.cache_clear()
    try:
        assert cli.main(["purge"]) == 1
    finally:
        get_settings.cache_clear()
    assert "Purge interrompue par une erreur de base de données" in capsys.readouterr().out
