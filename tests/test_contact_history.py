"""Contact history: recorded by the actions for an identified person, recalled by the greeting and the handover
summary, pseudonymised, on a real knowledge base (SQLite and PostgreSQL) and a fixed clock."""

from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk.events import SlotSet
from sqlalchemy import select

from actions import contacts, records
from actions.articles import ActionAnswerArticle
from actions.conversation import ActionGreet
from actions.handover import ActionHandover, ActionSaveCallback
from core.catalogue import CALL_REASONS
from core.pseudonyms import phone_pseudonym, sender_pseudonym
from core.settings import get_settings
from kb_sync.sources import FolderSource
from kb_sync.sync import sync
from store.engine import session_factory
from tests.action_harness import run, texts, tracker, user
from tests.conftest import DEMO_SOURCE

TUESDAY = "2026-11-24T10:00:00"
THURSDAY = "2026-11-26T22:00:00"  # the services are closed: a handover takes a callback request
CALLER = "sip:0612345678@pbx.ch-valmont.fr"


@pytest.fixture
def kb(any_db_url: str, use_db, clock):
    """The demo knowledge base on SQLite or PostgreSQL, and the clock (Tuesday 10:00) the test moves."""
    sync(FolderSource(DEMO_SOURCE), any_db_url)
    use_db(any_db_url)
    return clock


def session(sender: str, started: dt.datetime) -> dict:
    return {"event": "session_started", "timestamp": started.replace(tzinfo=dt.timezone.utc).timestamp()}


def call(*turns: dict, sender: str, started: str = TUESDAY, slots: dict | None = None):
    """A tracker of one session beginning at `started` (UTC, close enough for these tests)."""
    track = tracker(*turns, slots=slots, sender=sender)
    track.events.insert(0, session(sender, dt.datetime.fromisoformat(started)))
    return track


def voice(text: str, intent: str, caller: str | None = CALLER, **entities: str) -> dict:
    return user(text, intent, entities, channel="voice", metadata={"caller": caller} if caller else {})


def stored() -> list[records.ContactRecord]:
    records.ready(get_settings().db_url)
    with session_factory(get_settings().db_url)() as db:
        return list(db.execute(select(records.ContactRecord).order_by(records.ContactRecord.id)).scalars())


def test_a_callers_question_is_remembered_under_pseudonyms_only(kb) -> None:
    messages, _ = run(ActionAnswerArticle(), call(voice("/greet", "greet"), voice("où se garer", "ask_parking"), sender="call-1"))
    assert "parking" in texts(messages).lower()

    [row] = stored()
    settings = get_settings()
    assert row.person_key == phone_pseudonym(settings, "06 12 34 56 78") == phone_pseudonym(settings, "+33 6 12 34 56 78")
    assert row.conversation_key == sender_pseudonym(settings, "call-1")
    assert (row.channel, row.reasons, row.outcome) == ("voice", "ask_parking", None)
    cells = " ".join(str(getattr(row, c.name)) for c in records.ContactRecord.__table__.columns)
    for clear in ("0612345678", "612345678", "call-1", "garer"):
        assert clear not in cells


def test_the_next_call_is_greeted_with_the_last_contact_and_its_summary_lists_it(kb) -> None:
    run(ActionAnswerArticle(), call(voice("où se garer", "ask_parking"), sender="call-1"))
    run(ActionAnswerArticle(), call(voice("où se garer", "ask_parking"), voice("et le bus ?", "ask_transport"), sender="call-1"))
    [row] = stored()  # the same session: one contact, its reasons in the order asked
    assert row.reasons == "ask_parking ask_transport"

    kb(THURSDAY)
    greeting, _ = run(ActionGreet(), call(voice("/greet", "greet", caller="+33612345678"), sender="call-2", started=THURSDAY))
    assert greeting[0]["text"] == (
        "Bonjour, je suis l'assistant virtuel du Centre hospitalier de Valmont. Vous nous avez appelés mardi au sujet du parking "
        "et de l'accès en transports en commun. Comment puis-je vous aider ?"
    )

    handover = call(voice("/greet", "greet", caller="0612345678"), voice("mon compte rendu", "request_report"), voice("un conseiller", "request_human"), sender="call-2", started=THURSDAY)
    _, events = run(ActionHandover(), handover)
    summary = next(e["value"] for e in events if e.get("name") == "handover_summary")
    assert summary.endswith("contacts précédents : 24/11 téléphone (parking ; venir en transports en commun)")


def test_a_web_callback_request_identifies_the_patient_and_the_staff_see_his_history(kb) -> None:
    run(ActionAnswerArticle(), call(voice("/greet", "greet"), voice("le forfait journalier c'est combien", "ask_daily_fee"), sender="call-1"))

    kb(THURSDAY)
    web = [user("comment payer ma facture", "pay_bill"), user("je veux être rappelé", "request_human")]
    _, events = run(ActionHandover(), call(*web, sender="web-1", started=THURSDAY))
    summary = next(e["value"] for e in events if e.get("name") == "handover_summary")
    assert "contacts précédents" not in summary  # the web patient is not known yet
    slots = {"handover_service": "facturation", "handover_summary": summary, "callback_name": "Jeanne Martin", "callback_phone": "06 12 34 56 78", "callback_reason": "payer"}
    messages, events = run(ActionSaveCallback(), call(*web, user("payer", "out_of_scope"), sender="web-1", started=THURSDAY, slots=slots))
    assert "Jeanne Martin" in texts(messages) and SlotSet("callback_phone", None) in events

    with session_factory(get_settings().db_url)() as db:
        [request] = db.execute(select(records.HandoverRequest)).scalars()
    assert request.summary == f"{summary} · contacts précédents : 24/11 téléphone (forfait journalier)"
    web_contact = stored()[-1]
    assert (web_contact.channel, web_contact.reasons, web_contact.outcome, web_contact.service) == ("rest", "pay_bill", "callback", "facturation")
    assert web_contact.person_key == stored()[0].person_key

    kb("2026-11-27T09:00:00")  # the next morning, the patient calls
    greeting, _ = run(ActionGreet(), call(voice("/greet", "greet"), sender="call-3", started="2026-11-27T09:00:00"))
    assert "Vous nous avez écrit hier au sujet du paiement d'une facture, et vous aviez demandé à être rappelé." in greeting[0]["text"]


def test_unidentified_people_leave_no_history_and_hear_the_plain_greeting(kb) -> None:
    for caller in (None, "anonymous", "websocket:127.0.0.1"):
        run(ActionAnswerArticle(), call(voice("où se garer", "ask_parking", caller=caller), sender=f"call-{caller}"))
    run(ActionAnswerArticle(), call(user("où se garer", "ask_parking"), sender="web-1"))
    assert stored() == []
    greeting, _ = run(ActionGreet(), call(voice("/greet", "greet"), sender="call-2"))
    assert greeting[0]["text"] == "Bonjour, je suis l'assistant virtuel du Centre hospitalier de Valmont. Comment puis-je vous aider ?"


def test_old_contacts_are_not_recalled_and_the_greeting_can_keep_quiet(kb, monkeypatch) -> None:
    run(ActionAnswerArticle(), call(voice("où se garer", "ask_parking"), sender="call-1"))
    kb("2026-12-20T10:00:00")  # 26 days later: within the 30 days recalled
    greeted = call(voice("/greet", "greet"), sender="call-2", started="2026-12-20T10:00:00")
    assert "Vous nous avez appelés le 24 novembre 2026 au sujet du parking." in run(ActionGreet(), greeted)[0][0]["text"]

    monkeypatch.setenv("ACCUEIL_CONTACT_HISTORY_GREETING", "false")
    kb("2026-12-20T10:00:00")
    assert "Vous nous avez" not in run(ActionGreet(), greeted)[0][0]["text"]
    _, events = run(ActionHandover(), call(voice("/greet", "greet"), voice("un conseiller", "request_human"), sender="call-2", started="2026-12-20T10:00:00"))
    assert "contacts précédents : 24/11 téléphone (parking)" in next(e["value"] for e in events if e.get("name") == "handover_summary")

    kb("2026-12-25T10:00:00")  # 31 days later
    later = call(voice("/greet", "greet"), sender="call-3", started="2026-12-25T10:00:00")
    monkeypatch.delenv("ACCUEIL_CONTACT_HISTORY_GREETING")
    kb("2026-12-25T10:00:00")
    assert "Vous nous avez" not in run(ActionGreet(), later)[0][0]["text"]


def test_the_current_session_is_not_a_previous_contact(kb) -> None:
    track = call(voice("où se garer", "ask_parking"), sender="call-1")
    run(ActionAnswerArticle(), track)
    assert contacts.previous(track) == []
    assert len(contacts.previous(call(voice("/greet", "greet"), sender="call-1", started="2026-11-24T11:30:00"))) == 1


def test_a_broken_history_store_never_costs_the_patient_his_answer(kb, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(records, "session_factory", broken)  # the contact history's door (actions.records)
    messages, _ = run(ActionAnswerArticle(), call(voice("où se garer", "ask_parking"), sender="call-1"))
    assert "parking" in texts(messages).lower()
    greeting, _ = run(ActionGreet(), call(voice("/greet", "greet"), sender="call-2"))
    assert greeting[0]["text"].endswith("Comment puis-je vous aider ?")


@pytest.mark.parametrize(
    ("moment", "said"),
    [("2026-11-26T08:00", "aujourd'hui"), ("2026-11-25T23:00", "hier"), ("2026-11-23T10:00", "lundi"), ("2026-11-19T10:00", "le 19 novembre 2026")],
)
def test_days_are_said_as_a_person_would(moment: str, said: str) -> None:
    assert contacts.say_day(dt.datetime.fromisoformat(moment), dt.datetime(2026, 11, 26, 22, 0)) == said


def test_every_call_reason_has_a_topic_that_reads_after_au_sujet() -> None:
    for intent, reason in CALL_REASONS.items():
        assert reason.topic, intent
        phrase = contacts.about(intent)
        assert not any(bad in phrase for bad in (" de le ", " de les ", " de un", " de une")), phrase
    assert contacts.about("request_report") == "au sujet de votre compte rendu d'hospitalisation"
    assert contacts.about("ask_visiting_hours") == "au sujet des horaires de visite"
    assert contacts.about("request_sick_leave") == "au sujet d'un arrêt de travail"


def test_a_typed_number_never_shows_its_history_to_the_patient(kb) -> None:
    run(ActionAnswerArticle(), call(voice("où se garer", "ask_parking"), sender="call-1"))
    kb(THURSDAY)
    typed = {"callback_phone": "06 12 34 56 78"}  # anybody can type somebody's number
    messages, events = run(ActionHandover(), call(user("je veux un conseiller", "request_human"), sender="web-1", started=THURSDAY, slots=typed))
    summary = next(e["value"] for e in events if e.get("name") == "handover_summary")
    assert "contacts précédents" not in summary and "parking" not in texts(messages)
    assert contacts.previous(call(user("x", "greet"), sender="web-1", started=THURSDAY, slots=typed)) == []
    assert len(contacts.previous(call(user("x", "greet"), sender="web-1", started=THURSDAY, slots=typed), typed=True)) == 1


def test_a_web_message_claiming_a_callers_number_gets_no_history_and_plants_nothing(kb) -> None:
    """The attack of issue 17: a REST or socket.io client sends `metadata.caller`, somebody else's number."""
    run(ActionAnswerArticle(), call(voice("où se garer", "ask_parking"), sender="call-1"))
    [victim] = stored()

    kb(THURSDAY)
    for channel in ("rest", "socketio"):
        claimed = {"caller": CALLER}
        greeting, _ = run(ActionGreet(), call(user("bonjour", "greet", channel=channel, metadata=claimed), sender=f"web-{channel}", started=THURSDAY))
        assert greeting[0]["text"] == "Bonjour, je suis l'assistant virtuel du Centre hospitalier de Valmont. Comment puis-je vous aider ?"
        web = call(user("bonjour", "greet", channel=channel, metadata=claimed), user("mon compte rendu", "request_report", channel=channel, metadata=claimed), sender=f"web-{channel}", started=THURSDAY)
        run(ActionAnswerArticle(), web)
        assert contacts.previous(web) == [] and contacts.caller_number(web) is None
        _, events = run(ActionHandover(), call(user("un conseiller", "request_human", channel=channel, metadata=claimed), sender=f"web-{channel}", started=THURSDAY))
        assert "contacts précédents" not in next(e["value"] for e in events if e.get("name") == "handover_summary")

    # A web message sent with the sender id of a call: the caller's number no longer counts.
    hijacked = call(voice("/greet", "greet"), user("bonjour", "greet"), sender="call-1", started=THURSDAY)
    assert contacts.previous(hijacked) == [] and contacts.caller_number(hijacked) is None
    assert "Vous nous avez" not in run(ActionGreet(), hijacked)[0][0]["text"]
    run(ActionAnswerArticle(), call(voice("/greet", "greet"), user("où se garer", "ask_parking"), sender="call-9", started=THURSDAY))

    [row] = stored()
    assert (row.id, row.person_key, row.reasons) == (victim.id, victim.person_key, victim.reasons)
