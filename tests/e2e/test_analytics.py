"""Conversations sent to the real Rasa server (REST webhook, WebSocket and SIP calls), then measured: the
projection of its SQL tracker store, and the contact history a caller is greeted with.

Each conversation has a known outcome; the unit tests (`tests/analytics/`) check every indicator to
the exact value on written traffic, this one checks that what the running assistant stores is read
the same way.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import wave

import pytest
from sqlalchemy import MetaData, select

from analytics.indicators import indicators
from analytics.projection import project
from analytics.tables import Conversation
from core.pseudonyms import phone_pseudonym, sender_pseudonym
from store.engine import get_engine, session_factory
from tests.e2e.test_dialogues import Conversation as Chat
from tests.e2e.test_dialogues import request_callback
from tests.e2e.test_phone_calls import conversation, new_calls, wait_idle
from tests.e2e.test_rest_questions import contains
from tests.e2e.test_voice_calls import greeted, is_bot
from tests.voice.sip_clients import Baresip
from voice_gateway.caller import WebSocketCaller

pytestmark = pytest.mark.e2e


def measured(settings, chat: Chat | str) -> Conversation:
    sender = chat if isinstance(chat, str) else chat.sender
    with session_factory(settings.db_url)() as db:
        [row] = db.scalars(select(Conversation).where(Conversation.conversation_key == sender_pseudonym(settings, sender)))
        return row


def cells(settings, prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
    """(table, every value of a row as text) of the tables whose name starts with one of `prefixes`."""
    metadata = MetaData()
    metadata.reflect(get_engine(settings.db_url), only=lambda name, _: name.startswith(prefixes))
    with get_engine(settings.db_url).connect() as connection:
        return [
            (table.name, " ".join(str(value) for value in row))
            for table in metadata.sorted_tables
            for row in connection.execute(table.select())
        ]


def test_conversations_of_the_running_assistant_are_measured_with_their_outcome(e2e_settings, rasa_url) -> None:
    start = dt.datetime.now(dt.timezone.utc)
    satisfied, unhappy, emergency, lost = (Chat(rasa_url) for _ in range(4))
    assert contains(satisfied.text("le labo est ouvert le samedi ?"), "Cette réponse vous a-t-elle aidé")
    satisfied.text("oui")
    assert contains(unhappy.text("c'est quoi l'adresse de l'hôpital"), "12 avenue des Tilleuls")
    unhappy.text("non")
    assert contains(emergency.text("aidez moi mon père s'est effondré il ne respire plus"), "15")
    lost.text("zorglub flip flop wesh")

    project(e2e_settings)
    rows = {name: measured(e2e_settings, chat) for name, chat in (("satisfied", satisfied), ("unhappy", unhappy), ("emergency", emergency), ("lost", lost))}
    assert (rows["satisfied"].main_intent, rows["satisfied"].outcome, rows["satisfied"].satisfaction) == ("ask_opening_hours", "answered", "oui")
    assert (rows["unhappy"].main_intent, rows["unhappy"].outcome, rows["unhappy"].satisfaction) == ("ask_address", "answered", "non")
    assert rows["emergency"].outcome == "emergency"
    assert rows["lost"].outcome == "abandoned" and rows["lost"].main_intent is None
    assert all(row.channel == "web" for row in rows.values())

    # The indicators of these four conversations, to the exact value.
    web = indicators(e2e_settings, start, dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1), channel="web")
    assert (web.conversations, web.with_reason, web.outcomes) == (4, 3, {"answered": 2, "emergency": 1, "abandoned": 1})
    assert (web.contained, web.containment_rate, web.recontacts) == (2, 2 / 3, 0)
    assert (web.satisfaction_yes, web.satisfaction_no, web.satisfaction_rate) == (1, 1, 0.5)
    assert web.satisfaction_by_intent == {"ask_opening_hours": 1.0, "ask_address": 0.0}
    assert web.calls_avoided == 2 and web.hours_saved == pytest.approx(2 * 4 / 60) and web.etp_saved == pytest.approx(2 * 4 / 60 / 1607)

    # No sender id and no message text in clear in any analytics table.
    clear = [chat.sender for chat in (satisfied, unhappy, emergency, lost)] + ["zorglub", "labo", "respire"]
    for table, text in cells(e2e_settings, ("analytics_",)):
        assert not any(secret in text for secret in clear), table


def test_calls_over_the_websocket_are_measured_as_voice_conversations(e2e_settings, rasa_url, voice_url) -> None:
    start = dt.datetime.now(dt.timezone.utc)

    async def calls() -> tuple[str, str]:
        async with WebSocketCaller(voice_url) as asking:  # key 0 at 22:00: the callback form asks a name, then he hangs up
            await asking.wait_for(is_bot, timeout=30)
            pressed = time.monotonic()
            await asking.dtmf("0")
            await asking.wait_for(lambda e: is_bot(e) and "nom" in e["text"].lower(), timeout=30, after=pressed)
        async with WebSocketCaller(voice_url) as silent:  # greeted, then hangs up
            await greeted(silent)
        return asking.call_id, silent.call_id

    asking, silent = asyncio.run(calls())
    end = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
    project(e2e_settings)

    asked, hung_up = measured(e2e_settings, asking), measured(e2e_settings, silent)
    assert (asked.channel, asked.turns, asked.first_intent, asked.main_intent, asked.outcome) == ("voice", 2, "greet", None, "abandoned")
    assert (hung_up.channel, hung_up.turns, hung_up.outcome) == ("voice", 1, "abandoned")
    assert asked.caller_key is None and hung_up.caller_key is None  # a web page's call has no phone number
    voice = indicators(e2e_settings, start, end, channel="voice")
    assert (voice.conversations, voice.outcomes, voice.contained, voice.handovers, voice.calls_avoided) == (2, {"abandoned": 2}, 0, 0, 0)
    assert voice.with_reason == 0 and voice.containment_rate is None  # no call reason was given: nothing to contain
    assert indicators(e2e_settings, start, end, channel="web").conversations == 0


def silent_wav(path, seconds: float):
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(8000)
        out.writeframes(b"\0\0" * int(8000 * seconds))
    return path


def test_a_patient_known_from_a_web_callback_is_greeted_with_it_on_the_phone(e2e_settings, rasa_url, voice_url, tmp_path) -> None:
    web = Chat(rasa_url)
    assert contains(request_callback(web, "06 98 76 54 32"), "06 98 76 54 32")

    since = time.time()
    caller = Baresip(tmp_path, silent_wav(tmp_path / "silence.wav", 14.0), user="0698765432")
    result = asyncio.run(caller.call(f"sip:accueil@127.0.0.1:{e2e_settings.sip_port}", seconds=9))
    wait_idle(e2e_settings)
    [call] = new_calls(e2e_settings, since)
    assert call["caller"].startswith("sip:0698765432@"), result.output
    greeting = next(e["text"] for e in conversation(e2e_settings, rasa_url, call["call_id"]) if e["event"] == "bot")
    assert "Vous nous avez écrit aujourd'hui au sujet du paiement d'une facture, et vous aviez demandé à être rappelé." in greeting

    project(e2e_settings)
    person = phone_pseudonym(e2e_settings, "+33 6 98 76 54 32")
    assert measured(e2e_settings, call["call_id"]).caller_key == person == measured(e2e_settings, web).caller_key
    for table, text in cells(e2e_settings, ("analytics_", "contact_history")):
        assert not any(clear in text for clear in ("0698765432", "698765432", "98 76 54 32", call["call_id"], web.sender)), table
