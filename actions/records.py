"""What the conversations leave behind for the hospital's staff: answer feedback, handover requests, contact history.

The action server writes these rows (in the same database as the knowledge
base, tables of its own); the tables are created on first use.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from sqlalchemy import Boolean, Column, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import declarative_base

from kb_sync.db import DEFAULT_WAIT_SECONDS, get_engine, session_factory

Base = declarative_base()


class AnswerFeedback(Base):
    """A patient's "yes"/"no" to "Cette réponse vous a-t-elle aidé ?", or a free remark on the hospital."""

    __tablename__ = "answer_feedback"
    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(50))
    intent = Column(String(100))
    helpful = Column(Boolean)  # None for a free remark
    comment = Column(Text)
    created_at = Column(DateTime, nullable=False)


class HandoverRequest(Base):
    """A transfer to a service, or a callback request taken outside its office hours."""

    __tablename__ = "handover_requests"
    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(50))
    kind = Column(String(20), nullable=False)  # "transfer" or "callback"
    service = Column(String(100), nullable=False)
    summary = Column(Text, nullable=False)
    name = Column(String(200))
    phone = Column(String(20))
    reason = Column(Text)
    callback_at = Column(DateTime)  # the hospital's local time
    created_at = Column(DateTime, nullable=False)  # UTC


class ContactRecord(Base):
    """One contact of an identified person (a caller's number, a callback number): its call reasons and how it ended.

    Identifiers are keyed hashes only (`core.pseudonyms`); reasons are intent names, never the patient's words.
    """

    __tablename__ = "contact_history"
    __table_args__ = (UniqueConstraint("conversation_key", "session_start", name="uq_contact_session"),)
    id = Column(Integer, primary_key=True)
    person_key = Column(String(64), nullable=False, index=True)  # pseudonym of the phone number
    conversation_key = Column(String(64), nullable=False)  # pseudonym of the sender id
    session_start = Column(DateTime, nullable=False)  # UTC start of the Rasa session: one contact per session
    channel = Column(String(50))
    reasons = Column(Text, nullable=False, default="")  # intent names, space-separated, in the order asked
    outcome = Column(String(20))  # "transfer", "callback" or None (answered, or not finished)
    service = Column(String(100))
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


@lru_cache(maxsize=8)
def ready(db_url: str, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> bool:
    """Creates the tables of the records on first use (once per database and process)."""
    Base.metadata.create_all(get_engine(db_url, wait_seconds), checkfirst=True)
    return True


def save(db_url: str, row: Base, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> None:
    """Writes one record, committed when this returns (blocking: call it from a worker thread); raises when it
    could not be written, so nothing is confirmed to the patient that is not in the table."""
    ready(db_url, wait_seconds)
    with session_factory(db_url, wait_seconds)() as session, session.begin():
        session.add(row)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
