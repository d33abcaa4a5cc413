"""The endpoints file Rasa is started with: bot/endpoints.yml plus the conversation store from the settings
and the event broker of the Prometheus metrics.

Rasa keeps every conversation in its SQL tracker store (SQLite by default,
PostgreSQL in production), so conversations survive a restart or a model swap
and the studio can read the messages the assistant misunderstood. The store is
Rasa's own SQL store with a local journal (`bot.tracker_store`): what it cannot
write while the database is away waits in VAR_DIR/conversation-journal.db.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from sqlalchemy.engine import make_url

from core.settings import Settings

METRICS_BROKER = "bot.metrics_broker.MetricsBroker"  # counts the conversations' events for Prometheus
# Rasa's SQL store, whose failed writes wait in a local journal until the database answers again.
JOURNALED_STORE = "bot.tracker_store.JournaledSQLTrackerStore"
JOURNAL_FILE = "conversation-journal.db"  # Rasa server 1's; server i's is conversation-journal-i.db (one owner each)


def replica_suffix(replica: int) -> str:
    """What tells replica `replica`'s files apart: nothing for the first, "-2" for the second…"""
    return f"-{replica + 1}" if replica else ""


def tracker_store_config(db_url: str) -> dict:
    """Rasa's `SQL` tracker store settings for a SQLAlchemy URL."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return {"type": "SQL", "dialect": "sqlite", "db": url.database}
    config = {"type": "SQL", "dialect": url.drivername, "host": url.host, "port": url.port, "db": url.database}
    config.update({k: v for k, v in (("username", url.username), ("password", url.password)) if v})
    if url.query:
        config["query"] = dict(url.query)
    return {k: v for k, v in config.items() if v is not None}


def write_endpoints(settings: Settings, replica: int = 0) -> Path:
    """Writes VAR_DIR/endpoints.yml (endpoints-2.yml… for the other Rasa replicas; readable by this user only:
    it may hold the database password). Each replica has its own journal."""
    endpoints = yaml.safe_load((settings.bot_dir / "endpoints.yml").read_text(encoding="utf-8")) or {}
    store = tracker_store_config(settings.conversations_db_url)
    if "host" in store:  # Rasa's endpoints file names the SQL server `url` (it passes `host=url` to the store itself)
        store = {"url" if k == "host" else k: v for k, v in store.items()}
    if store["dialect"].startswith("postgresql") and "connect_timeout" not in store.get("query", {}):
        # A server away fails a save within seconds (into the journal) instead of holding the patient's reply.
        store["query"] = {**store.get("query", {}), "connect_timeout": str(max(1, round(settings.db_wait_seconds)))}
    journal = Path(JOURNAL_FILE)
    store.update(type=JOURNALED_STORE, journal=str(settings.var_dir / f"{journal.stem}{replica_suffix(replica)}{journal.suffix}"))
    endpoints["tracker_store"] = store
    # Rasa takes one event broker: a hospital's own (bot/endpoints.yml) is kept, without the Prometheus counts.
    endpoints.setdefault("event_broker", {"type": METRICS_BROKER})
    path = settings.var_dir / f"endpoints{replica_suffix(replica)}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# Written by Accueil at each start from bot/endpoints.yml and the settings: edit those instead.\n")
        yaml.safe_dump(endpoints, handle, allow_unicode=True, sort_keys=False)
    return path
