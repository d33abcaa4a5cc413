"""The analytics' classes, mapped onto their tables in `store.tables`: conversations, turns, projection state.

No message text and no identifier in clear: conversations and people are keyed hashes
(see `analytics.pseudonyms`), turns keep only intents, confidences and response names.
"""

from __future__ import annotations

from store import tables
from store.migrate import migrate
from store.tables import Base


class ProjectionState(Base):
    """Where the projection stopped: the id of the last tracker store event projected."""

    __table__ = tables.analytics_state


class Conversation(Base):
    """One Rasa conversation session (a new session starts a new row)."""

    __table__ = tables.analytics_conversations


class Turn(Base):
    """One patient message of a conversation, without its text."""

    __table__ = tables.analytics_turns


def ensure_tables(db_url: str) -> bool:
    """Brings the schema up to date on first use (once per process, even from several threads or processes)."""
    return migrate(db_url)
