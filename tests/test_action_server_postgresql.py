"""Production setup: the running action server, on PostgreSQL, answers a new version at its next request."""

from __future__ import annotations

import shutil
from pathlib import Path

import requests

from accueil.servers import action_server, running
from core.settings import Settings
from kb_sync.sources import FolderSource
from kb_sync.sync import sync
from tests.conftest import DEMO_SOURCE, free_port


def call(url: str, action: str, text: str, intent: str) -> str:
    """POST to the action server's webhook exactly as the Rasa server does."""
    payload = {
        "next_action": action,
        "sender_id": "pg-test",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": "pg-test",
            "slots": {},
            "latest_message": {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": []},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }
    response = requests.post(url, json=payload, timeout=30)
    response.raise_for_status()
    return "\n".join(r.get("text") or "" for r in response.json()["responses"])


def test_running_action_server_on_postgresql_answers_the_new_version(pg_url: str, tmp_path: Path) -> None:
    source = tmp_path / "sources"
    shutil.copytree(DEMO_SOURCE, source)
    sync(FolderSource(source), pg_url)
    settings = Settings(db_url=pg_url, var_dir=tmp_path / "var", actions_port=free_port())
    with running([action_server(settings, settings.log_dir)], timeout=120):
        webhook = f"http://{settings.host}:{settings.actions_port}/webhook"
        question = "horaires de la cafétéria"
        assert "tous les jours de 8h à 18h" in call(webhook, "action_opening_hours", question, "ask_opening_hours")
        places = source / "places.yml"
        places.write_text(places.read_text(encoding="utf-8").replace('opens: "08:00"\n        closes: "18:00"\n\n  - slug: facturation', 'opens: "08:00"\n        closes: "19:00"\n\n  - slug: facturation'), encoding="utf-8")
        assert sync(FolderSource(source), pg_url).changes.changed == ["lieu cafeteria"]
        assert "tous les jours de 8h à 19h" in call(webhook, "action_opening_hours", question, "ask_opening_hours")
        found = call(webhook, "action_fallback_suggestions", "comment payer ma facture", "nlu_fallback")
        assert "fiches" in found
