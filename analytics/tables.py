"""The analytics tables (in `settings.db_url`, on a declarative base of their own): conversations, turns, projection state.

No message text and no identifier in clear: conversations and people are keyed hashes
(see `analytics.pseudonyms`), turns keep only intents, confidences and response names.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from sqlalchemy import Boolean, Column, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import declarative_base

from kb_sync.db import get_engine

Base = declarative_base()


class ProjectionState(Base):
    """Where the projection stopped: the id of the last tracker store event projected."""

    __tablename__ = "analytics_state"
    name = Column(String(50), primary_key=True)
    value = Column(Integer, nullable=False)


class Conversation(Base):
    """One Rasa conversation session (a new session starts a new row)."""

    __tablename__ = "analytics_conversations"
    __table_args__ = (UniqueConstraint("conversation_key", "first_event_id"),)
    id = Column(Integer, primary_key=True)
    conversation_key = Column(String(64), nullable=False, index=True)  # pseudonym of the sender id
    person_key = Column(String(64), nullable=False, index=True)  # the caller's pseudonym when known, else conversation_key
    caller_key = Column(String(64), index=True)  # pseudonym of the caller's phone number (caller id, callback request)
    first_event_id = Column(Integer, nullable=False)
    last_event_id = Column(Integer, nullable=False)
    channel = Column(String(20), nullable=False)  # web, voice, or the raw input channel
    started_at = Column(DateTime, nullable=False, index=True)  # UTC
    ended_at = Column(DateTime, nullable=False)  # UTC
    duration_seconds = Column(Float, nullable=False)
    turns = Column(Integer, nullable=False)
    first_intent = Column(String(100))
    main_intent = Column(String(100), index=True)  # the first substantive intent: the call reason
    intents = Column(Text, nullable=False)  # JSON list, in order of first appearance
    min_confidence = Column(Float)
    outcome = Column(String(20), nullable=False)
    handover_service = Column(String(100))
    satisfaction = Column(String(3))  # "oui", "non" or None: the last answer to the feedback question


class Turn(Base):
    """One patient message of a conversation, without its text."""

    __tablename__ = "analytics_turns"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("analytics_conversations.id", ondelete="CASCADE"), nullable=False, index=True)
    conversation_key = Column(String(64), nullable=False)
    event_id = Column(Integer, nullable=False)
    at = Column(DateTime, nullable=False)  # UTC
    intent = Column(String(100))
    confidence = Column(Float)
    fallback = Column(Boolean, nullable=False)
    responses = Column(Text, nullable=False)  # JSON list of the bot's response names and actions that answered it
    feedback = Column(String(3))  # "oui"/"non" when the patient judged the answer to this message


_creating = threading.Lock()


@lru_cache(maxsize=8)
def ensure_tables(db_url: str) -> bool:
    """Creates the analytics tables on first use (once per process, even from several threads)."""
    with _creating:
        try:
            Base.metadata.create_all(get_engine(db_url), checkfirst=True)
        except (OperationalError, ProgrammingError):  # another process created them meanwhile
            Base.metadata.create_all(get_engine(db_url), checkfirst=True)
    return True
