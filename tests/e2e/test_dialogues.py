"""End to end: whole conversations through the REST and voice webhooks, with the real model and action server.

The servers' clock is a Tuesday at 22:00 (tests/conftest.py): services are
closed, so a request for a human takes a callback request.
"""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from sqlalchemy import select

from actions import records
from core.secret_files import voice_webhook_secret
from store.engine import session_factory
from tests.e2e.test_rest_questions import answer_text, ask, contains

pytestmark = pytest.mark.e2e


class Conversation:
    def __init__(self, rasa_url: str, channel: str = "rest", secret: str | None = None):
        """`secret`: the voice webhook's, which only the voice gateway (and these tests) may send."""
        self.url, self.channel, self.sender = rasa_url, channel, uuid.uuid4().hex
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def say(self, message: str) -> list[dict]:
        if self.channel == "rest":
            return ask(self.url, message, self.sender)
        response = requests.post(f"{self.url}/webhooks/{self.channel}/webhook", json={"sender": self.sender, "message": message}, headers=self.headers, timeout=30)
        response.raise_for_status()
        return response.json()

    def text(self, message: str) -> str:
        return answer_text(self.say(message))


def request_callback(chat: Conversation, phone: str, reason: str = "je n'ai pas reçu ma facture de novembre") -> str:
    """A question on a bill, then a callback request (the services are closed at 22:00): the name, `phone`, the
    reason; returns the confirmation."""
    chat.say("comment je peux payer ma facture ?")
    assert contains(chat.text("je voudrais parler à un conseiller"), "fermé en ce moment")
    assert contains(chat.text("Jeanne Martin"), "numéro de téléphone")
    chat.text(phone)
    return chat.text(reason)


def stored(db_url: str, model, sender: str) -> list:
    with session_factory(db_url)() as session:
        return list(session.execute(select(model).where(model.sender_id == sender)).scalars())


def test_medical_record_is_answered_at_once_then_the_stay_s_age_gives_its_delay(rasa_url) -> None:
    chat = Conversation(rasa_url)
    first = chat.text("bonjour je voudrais obtenir une copie de mon dossier médical")
    assert all(contains(first, fact) for fact in ("directeur", "8 jours", "2 mois", "12 avenue des Tilleuls", "Cette réponse vous a-t-elle aidé"))
    answer = chat.say("mon hospitalisation date d'il y a dix ans")
    assert contains(answer[0]["text"], "2 mois") and not contains(answer[0]["text"], "8 jours")


def test_a_medical_record_dated_in_the_first_message_gets_its_delay_first(rasa_url) -> None:
    messages = Conversation(rasa_url).say("J'ai été opérée du genou en 2013, comment je récupère mon dossier ?")
    assert contains(messages[0]["text"], "2 mois") and not contains(messages[0]["text"], "8 jours")
    assert not contains(answer_text(messages), "moins de 5 ans ou de plus de 5 ans")


def test_document_form_asks_which_document(rasa_url) -> None:
    chat = Conversation(rasa_url)
    messages = chat.say("il me faudrait un document s'il vous plaît")
    assert contains(answer_text(messages), "Quel document")
    assert any(b["title"] == "Bulletin de situation" for m in messages for b in m.get("buttons", []))
    answer = chat.text("un bulletin de situation pour mon employeur")
    assert contains(answer, "48 heures") and contains(answer, "bureau des admissions")


def test_follow_ups_continue_the_previous_question(rasa_url) -> None:
    chat = Conversation(rasa_url)
    assert contains(chat.text("le labo ouvre à quelle heure ?"), "7h30")
    assert contains(chat.text("et le samedi ?"), "Le samedi, laboratoire")
    visits = Conversation(rasa_url)
    assert contains(visits.text("les visites en réanimation c'est quand ?"), "14h")
    assert contains(visits.text("et pour un enfant ?"), "moins de 15 ans")
    assert contains(visits.text("et pour la maternité ?"), "15h")


def test_outside_office_hours_a_callback_request_is_stored_with_the_summary(rasa_url, e2e_settings) -> None:
    chat = Conversation(rasa_url)
    chat.say("comment je peux payer ma facture ?")
    assert contains(chat.text("je voudrais parler à un conseiller"), "fermé en ce moment")
    assert contains(chat.text("Jeanne Martin"), "numéro de téléphone")
    assert contains(chat.text("le 12 34"), "numéro de téléphone français")
    assert contains(chat.text("zéro six douze trente quatre cinquante six soixante dix huit"), "motif")
    done = chat.text("je n'ai pas reçu ma facture de novembre")
    assert contains(done, "Jeanne Martin") and contains(done, "06 12 34 56 78") and contains(done, "demain a 9h")
    [row] = stored(e2e_settings.db_url, records.HandoverRequest, chat.sender)
    assert (row.kind, row.service, row.phone, row.name) == ("callback", "facturation", "06 12 34 56 78", "Jeanne Martin")
    assert "paiement d'une facture" in row.summary and row.reason == "je n'ai pas reçu ma facture de novembre"


def test_emergency_comes_first_in_the_middle_of_a_form(rasa_url) -> None:
    chat = Conversation(rasa_url)
    chat.say("je voudrais la copie de mon dossier médical")
    messages = chat.say("aidez moi mon père s'est effondré il ne respire plus")
    assert "15" in messages[0]["text"] and "112" in messages[0]["text"]
    assert contains(chat.text("bonjour"), "Centre hospitalier de Valmont")


def test_did_it_help_is_stored_and_a_no_offers_a_human(rasa_url, e2e_settings) -> None:
    chat = Conversation(rasa_url)
    messages = chat.say("c'est combien le parking pour les visiteurs ?")
    assert contains(answer_text(messages), "1,50") and any(b["payload"] == "/deny" for m in messages for b in m.get("buttons", []))
    assert contains(chat.text("non"), "parler à un conseiller")
    [row] = stored(e2e_settings.db_url, records.AnswerFeedback, chat.sender)
    assert row.helpful is False and row.intent == "ask_parking"


def test_voice_channel_answers_without_buttons_or_lists(rasa_url, e2e_settings) -> None:
    call = Conversation(rasa_url, channel="voice", secret=voice_webhook_secret(e2e_settings))
    messages = call.say("comment est-ce que je peux régler ma facture")
    assert messages and not any(m.get("buttons") for m in messages)
    assert not any("\n" in (m.get("text") or "") for m in messages)
    assert contains(answer_text(messages), "virement") and contains(answer_text(messages), "Répondez par oui ou par non")


def test_insults_get_a_calm_answer(rasa_url) -> None:
    assert contains(Conversation(rasa_url).text("t'es complètement nul comme robot"), "je suis là pour vous aider")


def test_messages_over_1000_characters_are_refused_politely_on_every_channel(rasa_url, e2e_settings) -> None:
    long = "je voudrais savoir " * 60
    for channel in ("rest", "voice"):
        answer = Conversation(rasa_url, channel, secret=voice_webhook_secret(e2e_settings)).text(long)
        assert contains(answer, "trop long") and contains(answer, "1000 caractères"), (channel, answer)


def test_socketio_channel_answers_names_the_feedback_question_and_refuses_long_messages(rasa_url) -> None:
    import socketio

    received: list[dict] = []
    client = socketio.Client(reconnection=False)
    client.on("bot_uttered", received.append)
    client.connect(rasa_url, socketio_path="/socket.io", transports=["polling"], wait_timeout=10)
    try:
        session = uuid.uuid4().hex
        client.emit("session_request", {"session_id": session})
        client.sleep(0.5)

        def say(text: str) -> list[dict]:
            del received[:]
            client.emit("user_uttered", {"message": text, "session_id": session})
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not any(m.get("response") == "utter_ask_feedback" or "trop long" in m.get("text", "") for m in received):
                client.sleep(0.2)
            return list(received)

        answer = say("quels sont les horaires de la cafétéria")
        assert contains(" ".join(m.get("text", "") for m in answer), "8h")
        assert answer[-1]["response"] == "utter_ask_feedback" and [q["payload"] for q in answer[-1]["quick_replies"]] == ["/affirm", "/deny"]
        assert contains(say("x" * 1001)[0]["text"], "trop long")
    finally:
        client.disconnect()
