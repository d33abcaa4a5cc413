"""Flagging misunderstood patient messages in a real tracker store written by Rasa's own SQLTrackerStore."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text

from core.settings import PROJECT_ROOT, Settings
from studio.conversations import (
    FALLBACK,
    HUMAN_REQUEST,
    LOW_CONFIDENCE,
    NEGATIVE_FEEDBACK,
    flagged_messages,
    free_text_forms,
)

T0 = dt.datetime(2026, 11, 20, 9, 30, tzinfo=ZoneInfo("Europe/Paris")).timestamp()


def user(text: str, intent: str, confidence: float, *, ranking: list[tuple[str, float]] | None = None, channel: str = "socketio"):
    ranking = ranking or [(intent, confidence)]
    parse_data = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": name, "confidence": conf} for name, conf in ranking],
        "entities": [],
    }
    return UserUttered(text, {"name": intent, "confidence": confidence}, [], parse_data, input_channel=channel)


def bot(text: str, response: str | None = None):
    return BotUttered(text, metadata={"utter_action": response} if response else {})


def feedback_question():
    return bot("Cette réponse vous a-t-elle aidé ?", "utter_ask_feedback")


def session_start():
    return [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]


def save_conversation(db_path: Path, sender_id: str, events: list, start: float = T0) -> None:
    """Appends the events to the conversation as the Rasa server does: through its SQL tracker store, one second apart."""
    for index, event in enumerate(events):
        event.timestamp = start + index
    db_path.parent.mkdir(parents=True, exist_ok=True)

    async def save() -> None:
        store = SQLTrackerStore(dialect="sqlite", db=str(db_path))
        tracker = await store.retrieve(sender_id) or DialogueStateTracker(sender_id, slots=[])
        for event in events:
            tracker.update(event)
        await store.save(tracker)
        store.engine.dispose()

    asyncio.run(save())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(tracker_db_url=f"sqlite:///{tmp_path / 'conversations.db'}", var_dir=tmp_path, bot_dir=PROJECT_ROOT / "bot")


def db_path(settings: Settings) -> Path:
    return Path(settings.conversations_db_url.removeprefix("sqlite:///"))


def by_text(settings: Settings) -> dict:
    return {m.text: m for m in flagged_messages(settings)}


def test_a_low_confidence_message_is_flagged_masked_with_its_suggestions(settings: Settings) -> None:
    ranking = [("nlu_fallback", 0.5), ("ask_parking", 0.41), ("ask_address", 0.3), ("ask_transport", 0.1), ("greet", 0.05)]
    save_conversation(
        db_path(settings),
        "conv-1",
        [
            *session_start(),
            user("je me gare où, rappelez moi au 06 12 34 56 78", "nlu_fallback", 0.5, ranking=ranking, channel="voice"),
            ActionExecuted("action_fallback_suggestions"),
            ActionExecuted("action_listen"),
            user("quels sont les horaires de visite", "ask_visiting_hours", 0.98),
            ActionExecuted("action_visiting_hours"),
        ],
    )
    [message] = flagged_messages(settings)
    assert message.text == "je me gare où, rappelez moi au [téléphone]"
    assert message.reasons == [LOW_CONFIDENCE, FALLBACK]
    assert message.suggestions == [("ask_parking", 0.41), ("ask_address", 0.3), ("ask_transport", 0.1)]
    assert message.conversation_id == "conv-1"
    assert message.key == f"conv-1:{message.event_id}"
    assert message.channel == "voice" and message.channel_label == "téléphone"
    assert message.at == dt.datetime(2026, 11, 20, 9, 30, 3)  # the hospital's local time
    assert message.intent == "nlu_fallback"


def test_the_threshold_is_the_setting(settings: Settings) -> None:
    save_conversation(db_path(settings), "c", [*session_start(), user("c'est où le parking", "ask_parking", 0.75)])
    assert flagged_messages(settings) == []
    assert [m.text for m in flagged_messages(settings.copy(update={"studio_low_confidence": 0.8}))] == ["c'est où le parking"]


def test_the_core_fallback_after_a_confident_intent_flags_the_message(settings: Settings) -> None:
    save_conversation(
        db_path(settings),
        "c",
        [*session_start(), user("et pour le truc là", "inform", 0.93), ActionExecuted("action_fallback_suggestions")],
    )
    assert by_text(settings)["et pour le truc là"].reasons == [FALLBACK]


def test_a_no_to_the_feedback_question_flags_the_judged_message_not_the_no(settings: Settings) -> None:
    save_conversation(
        db_path(settings),
        "c",
        [
            *session_start(),
            user("je veux les horaires du self", "ask_opening_hours", 0.95),
            ActionExecuted("action_opening_hours"),
            bot("La cafétéria est ouverte de 8h à 18h."),
            feedback_question(),
            ActionExecuted("action_listen"),
            user("non", "deny", 0.99),
            ActionExecuted("action_store_feedback"),
            user("et le parking ?", "ask_parking", 0.97),
            ActionExecuted("action_answer_article"),
            feedback_question(),
            user("oui", "affirm", 0.99),
        ],
    )
    flagged = flagged_messages(settings)
    assert [(m.text, m.reasons) for m in flagged] == [("je veux les horaires du self", [NEGATIVE_FEEDBACK])]


def test_a_no_clicked_on_the_button_counts_and_a_previous_button_click_is_not_judged(settings: Settings) -> None:
    save_conversation(
        db_path(settings),
        "c",
        [
            *session_start(),
            user("il me faut un papier pour mon employeur", "request_document", 0.91),
            bot("Quel document souhaitez-vous obtenir ?", "utter_ask_document_type"),
            user('/inform{"document_type":"bulletin_situation"}', "inform", 1.0),
            feedback_question(),
            user("/deny", "deny", 1.0),
        ],
    )
    assert [(m.text, m.reasons) for m in flagged_messages(settings)] == [("il me faut un papier pour mon employeur", [NEGATIVE_FEEDBACK])]


def test_asking_for_a_human_flags_the_previous_message_of_the_session(settings: Settings) -> None:
    save_conversation(
        db_path(settings),
        "a",
        [
            *session_start(),
            user("bonjour", "greet", 0.99),
            user("ma mutuelle rembourse la télé ?", "ask_single_room", 0.88),
            ActionExecuted("action_answer_article"),
            user("je veux parler à quelqu'un", "request_human", 0.97),
        ],
    )
    save_conversation(
        db_path(settings),
        "b",
        [*session_start(), user("bonjour", "greet", 0.99), user("passez moi le standard pour mon dossier", "request_human", 0.96)],
    )
    save_conversation(
        db_path(settings),
        "c",
        [
            *session_start(),
            user("horaires de la maternité", "ask_visiting_hours", 0.99),
            *session_start(),  # a new session: the previous one's messages are not the reason
            user("un conseiller svp", "request_human", 0.99),
        ],
    )
    flagged = by_text(settings)
    assert set(flagged) == {"ma mutuelle rembourse la télé ?", "passez moi le standard pour mon dossier", "un conseiller svp"}
    assert all(m.reasons == [HUMAN_REQUEST] for m in flagged.values())


def test_button_payloads_and_callback_form_answers_are_never_flagged(settings: Settings) -> None:
    save_conversation(
        db_path(settings),
        "c",
        [
            *session_start(),
            user("/ask_opening_hours", "ask_opening_hours", 0.2),
            user("rappelez moi", "request_human", 0.95),
            ActionExecuted("action_handover"),
            ActionExecuted("callback_form"),
            ActiveLoop("callback_form"),
            bot("À quel nom dois-je enregistrer la demande de rappel ?", "utter_ask_callback_name"),
            user("Jeanne Martin", "greet", 0.31),
            user("06 11 22 33 44", "inform", 0.22),
            user("pour mes résultats de prise de sang", "request_results", 0.6),
            ActiveLoop(None),
            user("merci beaucoupp", "thank", 0.4),
        ],
    )
    assert [(m.text, m.reasons) for m in flagged_messages(settings)] == [
        ("merci beaucoupp", [LOW_CONFIDENCE]),
        ("rappelez moi", [HUMAN_REQUEST]),
    ]


def test_the_callback_form_is_found_in_the_domain() -> None:
    assert free_text_forms(PROJECT_ROOT / "bot") == frozenset({"callback_form"})


def test_conversations_are_kept_apart_and_newest_messages_come_first(settings: Settings) -> None:
    save_conversation(db_path(settings), "a", [*session_start(), user("truc bidule", "ask_parking", 0.3)], start=T0)
    save_conversation(db_path(settings), "b", [*session_start(), user("machin chose", "greet", 0.3)], start=T0 + 3600)
    save_conversation(db_path(settings), "a", [user("je veux un humain", "request_human", 0.9)], start=T0 + 7200)
    flagged = flagged_messages(settings)
    assert [(m.conversation_id, m.text, m.reasons) for m in flagged] == [
        ("b", "machin chose", [LOW_CONFIDENCE]),
        ("a", "truc bidule", [LOW_CONFIDENCE, HUMAN_REQUEST]),
    ]


def test_no_store_yet_means_no_message_and_no_file_created(settings: Settings) -> None:
    assert flagged_messages(settings) == []
    assert not db_path(settings).exists()


def test_new_events_are_seen_after_a_cached_read(settings: Settings) -> None:
    save_conversation(db_path(settings), "a", [*session_start(), user("premier", "greet", 0.3)])
    assert [m.text for m in flagged_messages(settings)] == ["premier"]
    save_conversation(db_path(settings), "b", [*session_start(), user("second", "greet", 0.3)], start=T0 + 60)
    assert [m.text for m in flagged_messages(settings)] == ["second", "premier"]


def test_a_hundred_thousand_events_are_read_in_seconds(settings: Settings) -> None:
    """Rows in Rasa's own format (copied from events it saved), 100,000 of them, 1 conversation in 10 flagged."""
    save_conversation(
        db_path(settings),
        "model",
        [
            *session_start(),
            user("bonjour", "greet", 0.99),
            ActionExecuted("action_greet"),
            bot("Bonjour, je suis l'assistant de l'hôpital."),
            user("horaires du labo", "ask_opening_hours", 0.97),
            ActionExecuted("action_opening_hours"),
            bot("Le laboratoire est ouvert de 7h à 18h."),
            feedback_question(),
            user("oui", "affirm", 0.99),
            ActionExecuted("action_store_feedback"),
        ],
    )
    engine = create_engine(f"sqlite:///{db_path(settings)}")
    with engine.begin() as connection:
        columns = "sender_id, type_name, timestamp, intent_name, action_name, data"
        model = connection.execute(text(f"SELECT {columns} FROM events WHERE sender_id = 'model' ORDER BY id")).all()
        rows = []
        conversations = 100_000 // len(model)
        for conversation in range(conversations):
            for sender, type_name, timestamp, intent, action, data in model:
                if conversation % 10 == 0 and type_name == "user" and intent == "ask_opening_hours":
                    event = json.loads(data)
                    event["parse_data"]["intent"]["confidence"] = 0.42
                    data = json.dumps(event)
                rows.append(
                    {"s": f"c{conversation}", "t": type_name, "ts": timestamp, "i": intent, "a": action, "d": data}
                )
        connection.execute(text(f"INSERT INTO events ({columns}) VALUES (:s, :t, :ts, :i, :a, :d)"), rows)
    engine.dispose()
    started = time.perf_counter()
    flagged = flagged_messages(settings)
    elapsed = time.perf_counter() - started
    assert len(flagged) == len(range(0, conversations, 10))
    assert {m.text for m in flagged} == {"horaires du labo"}
    assert elapsed < 5, elapsed


def test_the_production_store_on_postgresql_is_read_as_rasa_writes_it(pg_url: str, tmp_path: Path) -> None:
    """Rasa's tracker store configured from ACCUEIL_TRACKER_DB_URL (as `accueil run` writes it) on the local PostgreSQL."""
    from accueil.rasa_endpoints import tracker_store_config

    config = {k: v for k, v in tracker_store_config(pg_url).items() if k != "type"}
    events = [*session_start(), user("vous pouvez me rappeler au 06 12 34 56 78 pour le truc", "nlu_fallback", 0.31)]
    for index, event in enumerate(events):
        event.timestamp = T0 + index

    async def save() -> None:
        store = SQLTrackerStore(**config)
        tracker = DialogueStateTracker("patient-pg", slots=[])
        for event in events:
            tracker.update(event)
        await store.save(tracker)
        store.engine.dispose()

    asyncio.run(save())
    settings = Settings(tracker_db_url=pg_url, var_dir=tmp_path, bot_dir=PROJECT_ROOT / "bot")
    [message] = flagged_messages(settings)
    assert message.text == "vous pouvez me rappeler au [téléphone] pour le truc"
    assert message.conversation_id == "patient-pg" and FALLBACK in message.reasons
