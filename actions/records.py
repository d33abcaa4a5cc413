"""What the conversations leave behind for the hospital's staff: answer feedback, handover requests, contact history.

The actions' door to these rows, as `actions.kb_repository` is to the knowledge base: they write through the
functions below (one committed transaction per call, blocking: call them from a worker thread) and read the
contact history as plain frozen records. The tables are `store.tables.answer_feedback`, `handover_requests` and
`contact_history`, in the knowledge base's database; the schema is brought up to date on first use.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from core.purging import PurgeCount, database_exists, delete_older
from core.settings import Settings
from store import tables
from store.engine import DEFAULT_WAIT_SECONDS, get_engine, session_factory
from store.migrate import migrate
from store.tables import Base


class AnswerFeedback(Base):
    """A patient's "yes"/"no" to "Cette réponse vous a-t-elle aidé ?", or a free remark on the hospital."""

    __table__ = tables.answer_feedback


class HandoverRequest(Base):
    """A transfer to a service, or a callback request taken outside its office hours."""

    __table__ = tables.handover_requests


class ContactRecord(Base):
    """One contact of an identified person (a caller's number, a callback number): its call reasons and how it ended.

    Identifiers are keyed hashes only (`core.pseudonyms`); reasons are intent names, never the patient's words.
    """

    __table__ = tables.contact_history


def ready(db_url: str, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> bool:
    """Brings the schema up to date on first use (once per database and process)."""
    return migrate(db_url, wait_seconds)


def save(db_url: str, row: Base, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> None:
    """Writes one record, committed when this returns (blocking: call it from a worker thread); raises when it
    could not be written, so nothing is confirmed to the patient that is not in the table."""
    ready(db_url, wait_seconds)
    with session_factory(db_url, wait_seconds)() as session, session.begin():
        session.add(row)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def save_feedback(db_url: str, wait_seconds: float, **values) -> None:
    """An answer feedback or a free remark (`AnswerFeedback`'s columns), dated now."""
    save(db_url, AnswerFeedback(created_at=now_utc(), **values), wait_seconds)


def save_handover(db_url: str, wait_seconds: float, **values) -> None:
    """A transfer or a callback request (`HandoverRequest`'s columns), dated now."""
    save(db_url, HandoverRequest(created_at=now_utc(), **values), wait_seconds)


def record_contact(
    db_url: str,
    wait_seconds: float,
    *,
    conversation_key: str,
    session_start: dt.datetime,
    person_key: str,
    channel: str | None,
    reasons: list[str],
    outcome: str | None,
    service: str | None,
    now: dt.datetime,
) -> None:
    """Creates or updates the contact of one Rasa session: reasons are added in order, an outcome once set stays."""
    ready(db_url, wait_seconds)
    with session_factory(db_url, wait_seconds)() as db, db.begin():
        row = db.execute(
            select(ContactRecord).where(
                ContactRecord.conversation_key == conversation_key, ContactRecord.session_start == session_start
            )
        ).scalar_one_or_none()
        if row is None:
            row = ContactRecord(conversation_key=conversation_key, session_start=session_start, created_at=now)
            db.add(row)
        row.person_key = person_key
        row.channel = channel or row.channel
        row.reasons = " ".join(dict.fromkeys([*(row.reasons or "").split(), *reasons]))
        row.outcome = outcome or row.outcome
        row.service = service or row.service
        row.updated_at = now


@dataclass(frozen=True)
class ContactRow:
    """A stored contact, as read (UTC times)."""

    conversation_key: str
    session_start: dt.datetime
    created_at: dt.datetime
    channel: str | None
    reasons: str
    outcome: str | None
    service: str | None


def contacts_since(db_url: str, wait_seconds: float, person_key: str, since: dt.datetime) -> list[ContactRow]:
    """The person's contacts updated since `since` (naive UTC), newest first."""
    ready(db_url, wait_seconds)
    with session_factory(db_url, wait_seconds)() as db:
        rows = db.execute(
            select(ContactRecord)
            .where(ContactRecord.person_key == person_key, ContactRecord.updated_at >= since)
            .order_by(ContactRecord.created_at.desc())
        ).scalars()
        return [
            ContactRow(row.conversation_key, row.session_start, row.created_at, row.channel, row.reasons or "", row.outcome, row.service)
            for row in rows
        ]


def purge(settings: Settings, cutoff: dt.datetime, dry_run: bool) -> list[PurgeCount]:
    """Retention (`accueil purge`): the feedback and the handover requests created before the cutoff, and the
    contacts last updated before it (a contact is kept while it goes on), in one transaction."""
    if not database_exists(settings.db_url):
        return []
    with get_engine(settings.db_url).begin() as connection:
        return delete_older(
            connection,
            [AnswerFeedback.__table__.c.created_at, HandoverRequest.__table__.c.created_at, ContactRecord.__table__.c.updated_at],
            cutoff,
            dry_run,
        )
