"""Conversations sent to the real Rasa server, then measured: the projection of its SQL tracker store.

Each conversation has a known outcome; the unit tests (`tests/analytics/`) check every indicator to
the exact value on written traffic, this one checks that what the running assistant stores is read
the same way.
"""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData, select

from analytics.projection import project
from analytics.pseudonyms import sender_pseudonym
from analytics.tables import Conversation
from kb_sync.db import get_engine, session_factory
from tests.e2e.test_dialogues import Conversation as Chat
from tests.e2e.test_rest_questions import contains

pytestmark = pytest.mark.e2e


def measured(settings, chat: Chat) -> Conversation:
    with session_factory(settings.db_url)() as db:
        [row] = db.scalars(select(Conversation).where(Conversation.conversation_key == sender_pseudonym(settings, chat.sender)))
        return row


def test_conversations_of_the_running_assistant_are_measured_with_their_outcome(e2e_settings, rasa_url) -> None:
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

    # No sender id and no message text in clear in any analytics table.
    metadata = MetaData()
    metadata.reflect(get_engine(e2e_settings.db_url), only=lambda name, _: name.startswith("analytics_"))
    clear = [chat.sender for chat in (satisfied, unhappy, emergency, lost)] + ["zorglub", "labo", "respire"]
    with get_engine(e2e_settings.db_url).connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(table.select()):
                text = " ".join(str(value) for value in row)
                assert not any(secret in text for secret in clear), table.name
