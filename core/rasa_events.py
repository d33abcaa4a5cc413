"""Rasa's `events` table, the one description of it in the project.

Rasa's SQL tracker store (`settings.conversations_db_url`) creates and writes it; the studio and the
analytics read it, the retention purge deletes from it, all without importing Rasa. The columns are
those of Rasa 3.6's `rasa.core.tracker_store.SQLTrackerStore.SQLEvent`.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, inspect
from sqlalchemy.engine import Connection, Engine

EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


def has_events_table(bind: Engine | Connection) -> bool:
    """Whether the tracker store holds the `events` table yet (Rasa creates it on its first start)."""
    return inspect(bind).has_table(EVENTS.name)
