"""The projection of a real tracker store (written by Rasa's SQLTrackerStore): sessions, outcomes, increments, no clear identifiers."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, func, select, text

from analytics.projection import EVENTS, ProjectionReport, project, projected_up_to
from analytics.tables import Conversation, Turn
from core.pseudonyms import phone_pseudonym, sender_pseudonym
from core.settings import Settings
from store.engine import session_factory
from tests.analytics.scenario import CALLBACK_PHONE, PHONE, SENDERS, TEXTS, write_traffic
from tests.analytics.tracker_data import action, answered, at, feedback, save, session_start, user
from tests.conftest import sqlite_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return sqlite_settings(tmp_path)


def conversations(settings: Settings, sender_id: str | None = None) -> list[Conversation]:
    with session_factory(settings.db_url)() as db:
        query = select(Conversation).order_by(Conversation.first_event_id)
        if sender_id:
            query = query.where(Conversation.conversation_key == sender_pseudonym(settings, sender_id))
        return db.execute(query).scalars().all()


def turns(settings: Settings, conversation: Conversation) -> list[Turn]:
    with session_factory(settings.db_url)() as db:
        return db.execute(select(Turn).where(Turn.conversation_id == conversation.id).order_by(Turn.event_id)).scalars().all()


def test_each_session_is_a_conversation_with_its_outcome(settings: Settings) -> None:
    write_traffic(settings.conversations_db_url)
    project(settings)
    first, second = conversations(settings, "web-bob")
    assert (first.main_intent, first.outcome, first.satisfaction, first.channel) == (
        "ask_visiting_hours",
        "answered",
        "non",
        "web",
    )
    assert (second.turns, second.min_confidence, json.loads(second.intents)) == (2, 0.85, ["ask_visiting_hours", "inform"])
    [alice] = conversations(settings, "web-alice")
    assert (alice.first_intent, alice.main_intent, alice.satisfaction, alice.duration_seconds) == (
        "greet",
        "ask_parking",
        "oui",
        10.0,
    )
    assert [(t.intent, t.fallback, t.feedback) for t in turns(settings, alice)] == [
        ("greet", False, None),
        ("ask_parking", False, "oui"),
        ("affirm", False, None),
    ]
    assert json.loads(turns(settings, alice)[1].responses) == ["action_answer_article", "utter_answer", "utter_ask_feedback"]
    [transfer] = conversations(settings, "call-1")
    assert (transfer.channel, transfer.outcome, transfer.handover_service) == ("voice", "handed_over", "imagerie")
    [callback] = conversations(settings, "web-carol")
    assert (callback.outcome, callback.main_intent, callback.handover_service) == ("callback", None, "admissions")
    assert callback.caller_key == callback.person_key == phone_pseudonym(settings, CALLBACK_PHONE)
    assert [t.fallback for t in turns(settings, callback)] == [True, True, True, False, False, False]
    [emergency] = conversations(settings, "call-4")
    assert (emergency.outcome, emergency.caller_key, emergency.person_key) == (
        "emergency",
        None,
        sender_pseudonym(settings, "call-4"),
    )
    [abandoned] = conversations(settings, "web-dan")
    assert (abandoned.outcome, abandoned.main_intent) == ("abandoned", None)
    # The same caller, whatever way the PBX wrote the number, is one person.
    callers = {c.person_key for sender in ("call-1", "call-2", "call-3", "call-5") for c in conversations(settings, sender)}
    assert callers == {phone_pseudonym(settings, PHONE)}


def test_the_projection_is_incremental_and_counts_nothing_twice(settings: Settings) -> None:
    url = settings.conversations_db_url
    save(url, "web-alice", [*session_start(), *answered("je me gare où", "ask_parking")], at(2026, 11, 17, 9, 30))
    assert project(settings).conversations == 1
    assert project(settings).events == 0
    # The same session goes on, and a new patient arrives.
    save(url, "web-alice", feedback("deny"), at(2026, 11, 17, 9, 31))
    save(url, "web-bob", [*session_start(), user("bonjour", "greet")], at(2026, 11, 17, 9, 32))
    report = project(settings)
    assert (report.events, report.conversations, report.updated) == (4 + 4, 1, 1)
    [alice] = conversations(settings, "web-alice")
    assert (alice.turns, alice.satisfaction, alice.duration_seconds) == (2, "non", 63.0)
    # A new session of a conversation already projected adds a row; the old one is kept as it was.
    save(url, "web-alice", [*session_start(), *answered("les horaires de visite", "ask_visiting_hours")], at(2026, 11, 19, 9, 0))
    report = project(settings)
    assert (report.conversations, report.updated) == (1, 1)
    assert [(c.main_intent, c.turns, c.satisfaction) for c in conversations(settings, "web-alice")] == [
        ("ask_parking", 2, "non"),
        ("ask_visiting_hours", 1, None),
    ]
    with session_factory(settings.db_url)() as db:
        assert db.execute(select(func.count()).select_from(Turn)).scalar() == 4
        assert db.execute(select(func.count()).select_from(Conversation)).scalar() == 3
    assert project(settings) == ProjectionReport(events=0, conversations=0, updated=0)


def test_a_session_without_any_patient_message_is_not_a_conversation(settings: Settings) -> None:
    save(settings.conversations_db_url, "web-x", [*session_start(), action("action_listen")], at(2026, 11, 17, 9, 0))
    assert project(settings).conversations == 0 and conversations(settings) == []


def test_no_identifier_nor_text_in_clear_in_any_analytics_table(settings: Settings) -> None:
    write_traffic(settings.conversations_db_url)
    project(settings)
    digits = ["0612345678", "612345678", "+33612345678", "06 12", "0698765432", "698765432", "06 98"]
    forbidden = [*SENDERS, *TEXTS, PHONE, CALLBACK_PHONE, *digits]
    engine = create_engine(settings.db_url)
    metadata = MetaData()
    metadata.reflect(engine)
    tables = [t for name, t in metadata.tables.items() if name.startswith("analytics_")]
    assert {t.name for t in tables} == {"analytics_conversations", "analytics_turns", "analytics_state"}
    scanned = 0
    with engine.connect() as connection:
        for table in tables:
            for row in connection.execute(table.select()):
                for value in row:
                    scanned += 1
                    assert not any(word.lower() in str(value).lower() for word in forbidden), (table.name, value)
    assert scanned > 100
    engine.dispose()


def test_concurrent_projections_count_each_conversation_once(settings: Settings) -> None:
    write_traffic(settings.conversations_db_url)
    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(lambda _: project(settings), range(4)))
    # The traffic's conversations dated after today are rebuilt by each projection (they have not settled), never added twice.
    assert sum(r.conversations for r in reports) == 12
    assert len(conversations(settings)) == 12


def test_an_event_committed_after_greater_ids_were_projected_is_still_found(settings: Settings) -> None:
    """On PostgreSQL, a conversation saved at the same moment as another may commit its smaller ids last."""
    url = settings.conversations_db_url
    now = time.time()
    save(url, "web-late", [*session_start(), *answered("je me gare où", "ask_parking")], now - 5)
    save(url, "web-early", [*session_start(), *answered("les horaires de visite", "ask_visiting_hours")], now - 4)
    engine = create_engine(url)
    with engine.begin() as connection:  # web-late's transaction has not committed yet
        late = [dict(row._mapping) for row in connection.execute(text("SELECT * FROM events WHERE sender_id = 'web-late'"))]
        connection.execute(text("DELETE FROM events WHERE sender_id = 'web-late'"))
    assert project(settings).conversations == 1 and [c.main_intent for c in conversations(settings)] == ["ask_visiting_hours"]

    with engine.begin() as connection:  # now it has, with ids smaller than those already projected
        connection.execute(EVENTS.insert(), late)
    engine.dispose()
    assert project(settings).conversations == 1
    assert sorted(c.main_intent for c in conversations(settings)) == ["ask_parking", "ask_visiting_hours"]
    with session_factory(settings.db_url)() as db:
        assert db.execute(select(func.count()).select_from(Conversation)).scalar() == 2
    assert projected_up_to(settings) == max(row["id"] for row in late) + len(late)  # the greatest id seen


def test_settled_events_are_not_read_again(settings: Settings) -> None:
    url = settings.conversations_db_url
    save(url, "web-old", [*session_start(), *answered("je me gare où", "ask_parking")], time.time() - 3600)
    assert project(settings).conversations == 1
    save(url, "web-new", [*session_start(), *answered("les horaires de visite", "ask_visiting_hours")], time.time())
    first = project(settings)
    assert (first.conversations, first.updated) == (1, 0)
    again = project(settings)  # the recent conversation is rebuilt until it settles, the old one is not read again
    assert (again.conversations, again.updated) == (0, 1) and len(conversations(settings)) == 2


def test_only_the_voice_channel_names_a_caller(settings: Settings) -> None:
    """A web client's `metadata.caller` is its own word: it never links its conversation to a phone number."""
    url, start = settings.conversations_db_url, time.time() - 3600
    for index, channel in enumerate(("rest", "socketio")):
        save(url, f"web-{channel}", [*session_start(), *answered("mon compte rendu", "request_report", channel=channel, caller=PHONE)], start + index)
    save(url, "call-real", [*session_start(), *answered("mon compte rendu", "request_report", channel="voice", caller=PHONE)], start + 10)
    project(settings)
    for channel in ("rest", "socketio"):
        [planted] = conversations(settings, f"web-{channel}")
        assert (planted.caller_key, planted.person_key) == (None, sender_pseudonym(settings, f"web-{channel}"))
    [call] = conversations(settings, "call-real")
    assert call.caller_key == call.person_key == phone_pseudonym(settings, PHONE)
