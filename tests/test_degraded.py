"""The database away (core/degraded.py, actions/base.py): a SQLite file locked for long, PostgreSQL cut by a
TCP proxy (the machine's PostgreSQL server keeps running). The actions answer the polite French message with the
switchboard's number, never confirm a callback request that is not in its table, recover without a restart; a
knowledge-base sync cut in the middle leaves the previous version whole."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import requests
from hypothesis import given, settings as hypothesis_settings, strategies as st
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from accueil import action_guard
from accueil.servers import action_server, running
from actions import base, records
from actions.visiting_hours import ActionVisitingHours
from core import degraded
from core.settings import Settings, get_settings
from kb_sync.models import KbVersion, OpeningHours, Place
from kb_sync.sources import FolderSource
from kb_sync.sync import sync
from kb_sync.versions import latest_version
from store.engine import session_factory
from tests.action_harness import run, texts, tracker, user
from tests.conftest import DEMO_SOURCE, E2E_CLOCK, free_port
from tests.faults.tcp_proxy import TcpProxy

SWITCHBOARD = "02 38 00 00 00"  # the demo hospital's (kb_content/valmont/organisation.yml)


@contextmanager
def exclusively_locked(db_url: str) -> Iterator[None]:
    """Another process's connection holding the SQLite file in exclusive locking mode: nobody else reads or writes."""
    holder = sqlite3.connect(make_url(db_url).database, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE IF NOT EXISTS lock_holder (x INTEGER)")
    try:
        yield
    finally:
        holder.execute("COMMIT")
        holder.close()


def test_a_sqlite_file_locked_for_long_gets_the_polite_answer_then_answers_again(demo_kb, monkeypatch) -> None:
    monkeypatch.setenv("ACCUEIL_DB_WAIT_SECONDS", "0.3")
    get_settings.cache_clear()
    monkeypatch.setattr(base, "SWITCHBOARD", {})
    asked = tracker(user("horaires de visite", "ask_visiting_hours"))
    assert "13h à 20h" in texts(run(ActionVisitingHours(), asked)[0])  # the switchboard's number is read meanwhile
    with exclusively_locked(demo_kb):
        messages, events = run(ActionVisitingHours(), asked)
        assert [m["utter_action"] for m in messages] == [degraded.UNAVAILABLE]
        assert "momentanément indisponible" in messages[0]["text"] and SWITCHBOARD in messages[0]["text"]
        assert [e["event"] for e in events] == ["followup"]  # nothing else changes, then Rasa listens
        phone, _ = run(ActionVisitingHours(), tracker(user("horaires de visite", "ask_visiting_hours", channel="voice")))
        assert "Voulez-vous que je vous passe le standard" in phone[0]["text"]
    assert "13h à 20h" in texts(run(ActionVisitingHours(), asked)[0])


def test_without_the_knowledge_base_the_number_comes_from_the_setting(use_db, monkeypatch, tmp_path) -> None:
    use_db(f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("ACCUEIL_SWITCHBOARD_PHONE", "01 23 45 67 89")
    get_settings.cache_clear()
    monkeypatch.setattr(base, "SWITCHBOARD", {})
    messages, _ = run(ActionVisitingHours(), tracker(user("visites", "ask_visiting_hours")))
    assert "01 23 45 67 89" in messages[0]["text"]
    assert action_guard.switchboard_phone(get_settings()) == "01 23 45 67 89"


def post_action(url: str, action: str, text: str, intent: str, slots: dict | None = None, channel: str = "rest") -> dict:
    """POST to the action server's webhook as Rasa does; its JSON answer (responses, events)."""
    event = user(text, intent, channel=channel)
    payload = {
        "next_action": action, "sender_id": "away-test", "version": "3.6.21", "domain": {},
        "tracker": {
            "sender_id": "away-test", "slots": slots or {}, "latest_message": event["parse_data"],
            "events": [{"event": "action", "name": "action_listen"}, event], "paused": False, "followup_action": None,
            "active_loop": {}, "latest_action_name": "action_listen", "latest_input_channel": channel,
        },
    }  # fmt: skip
    response = requests.post(url, json=payload, timeout=30)
    response.raise_for_status()
    return response.json()


def said(answer: dict) -> str:
    return "\n".join(r.get("text") or "" for r in answer["responses"])


CALLBACK = {
    "callback_name": "Jeanne Martin", "callback_phone": "06 12 34 56 78", "callback_reason": "ma facture de novembre",
    "handover_service": "facturation", "handover_summary": "Canal web · motif : paiement d'une facture",
}  # fmt: skip


def callbacks(db_url: str) -> list:
    records.ready(db_url)
    with session_factory(db_url)() as session:
        return list(session.execute(select(records.HandoverRequest)).scalars())


def test_postgresql_cut_then_back_the_action_server_answers_politely_and_loses_no_callback(pg_url: str, tmp_path: Path) -> None:
    sync(FolderSource(DEMO_SOURCE), pg_url)
    with TcpProxy(("127.0.0.1", make_url(pg_url).port or 5432), free_port()) as proxy:
        through_proxy = str(make_url(pg_url).set(host="127.0.0.1", port=proxy.port))
        settings = Settings(db_url=through_proxy, var_dir=tmp_path / "var", actions_port=free_port(), clock=E2E_CLOCK, db_wait_seconds=2)
        with running([action_server(settings, settings.log_dir)], timeout=120):
            webhook = f"http://{settings.host}:{settings.actions_port}/webhook"
            assert "13h à 20h" in said(post_action(webhook, "action_visiting_hours", "visites", "ask_visiting_hours"))

            proxy.cut()  # as PostgreSQL stopped: open connections reset, new ones refused
            away = post_action(webhook, "action_visiting_hours", "visites", "ask_visiting_hours")
            assert "momentanément indisponible" in said(away) and SWITCHBOARD in said(away)
            assert [e["event"] for e in away["events"]] == ["followup"]
            unsaved = said(post_action(webhook, "action_save_callback", "ma facture de novembre", "inform", CALLBACK))
            assert "je n'ai pas pu enregistrer votre demande de rappel" in unsaved and SWITCHBOARD in unsaved
            assert "C'est noté" not in unsaved
            assert callbacks(pg_url) == []  # nothing confirmed, nothing written

            proxy.restore()  # PostgreSQL back: the same process answers at its next request
            assert "13h à 20h" in said(post_action(webhook, "action_visiting_hours", "visites", "ask_visiting_hours"))
            saved = said(post_action(webhook, "action_save_callback", "ma facture de novembre", "inform", CALLBACK))
            assert "C'est noté, Jeanne Martin" in saved
            [row] = callbacks(pg_url)
            assert (row.kind, row.service, row.phone) == ("callback", "facturation", "06 12 34 56 78")


def test_a_sync_cut_in_the_middle_leaves_the_previous_version_whole(pg_url: str, tmp_path: Path) -> None:
    source = tmp_path / "sources"
    shutil.copytree(DEMO_SOURCE, source)
    first = sync(FolderSource(source), pg_url)
    places = source / "places.yml"
    places.write_text(places.read_text(encoding="utf-8").replace('closes: "18:00"\n\n  - slug: facturation', 'closes: "19:00"\n\n  - slug: facturation'), encoding="utf-8")

    with TcpProxy(("127.0.0.1", make_url(pg_url).port or 5432), free_port()) as proxy:
        through_proxy = str(make_url(pg_url).set(host="127.0.0.1", port=proxy.port))

        def cut_after_a_few(done: int, total: int) -> None:
            if done == 5:  # places already replaced in the transaction, the rest not yet
                proxy.cut()

        with pytest.raises(DBAPIError):
            sync(FolderSource(source), through_proxy, progress=cut_after_a_few)
        with session_factory(pg_url)() as session:
            assert latest_version(session).id == first.version
            assert session.execute(select(func.count()).select_from(KbVersion)).scalar_one() == 1
            assert session.execute(select(func.count()).select_from(Place)).scalar_one() == first.counts["places"]
            assert cafeteria_closes(session) == {dt.time(18, 0)}

        proxy.restore()
        again = sync(FolderSource(source), through_proxy)
        assert again.version == first.version + 1 and again.changes.changed == ["lieu cafeteria"]
        with session_factory(pg_url)() as session:
            assert session.execute(select(func.count()).select_from(Place)).scalar_one() == again.counts["places"]
            assert cafeteria_closes(session) == {dt.time(19, 0)}


def cafeteria_closes(session) -> set:
    return set(session.execute(select(OpeningHours.closes).join(Place, OpeningHours.place_id == Place.id).where(Place.slug == "cafeteria")).scalars())


events_strategy = st.lists(st.sampled_from([("user", None), ("action", "action_listen"), ("action", "action_x"), ("bot", None), ("bot", degraded.UNAVAILABLE)]), max_size=12)


@hypothesis_settings(max_examples=60, deadline=None, derandomize=True)
@given(
    channel=st.sampled_from(["rest", "voice", "socketio", None]),
    intent=st.sampled_from(["affirm", "request_human", "ask_visiting_hours", None]),
    events=events_strategy,
    phone=st.sampled_from([SWITCHBOARD, None]),
)
def test_while_away_every_answer_is_french_and_only_the_phone_is_transferred(channel, intent, events, phone) -> None:
    messages = degraded.answer_while_away(phone, channel, intent, degraded.previous_bot_response(events))
    assert messages and all(m.get("text") or m.get("custom") for m in messages)
    transferred = [m["custom"]["handover"] for m in messages if "custom" in m]
    if channel != "voice":
        assert not transferred and "passe le standard" not in messages[0]["text"]
    if transferred:
        assert transferred[0]["service"] == "standard" and messages[0]["text"].startswith("Je vous passe le standard")
        assert intent == "request_human" or (intent == "affirm" and degraded.previous_bot_response(events) == degraded.UNAVAILABLE)
    elif phone:
        assert phone in messages[0]["text"]
