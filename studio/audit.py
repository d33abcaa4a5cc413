"""The audit log: who changed what in the studio, and when."""

from __future__ import annotations

import datetime as dt

from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from store import tables
from store.tables import Base
from studio.db import session_scope
from studio.web import current_settings


class AuditEntry(Base):
    __table__ = tables.studio_audit


def record(session: Session, username: str, action: str, target: str = "", detail: dict | None = None) -> AuditEntry:
    # What a refused login typed as its user name must fit PostgreSQL: 64 characters, no NUL.
    username, target = username[:64].replace("\x00", "\ufffd"), target.replace("\x00", "\ufffd")
    entry = AuditEntry(at=dt.datetime.utcnow().replace(microsecond=0), username=username, action=action[:100], target=target, detail=detail)
    session.add(entry)
    return entry


def audit(action: str, target: str = "", detail: dict | None = None) -> None:
    """Records a change made by the logged-in user of the current request."""
    username = current_user.username if current_user and current_user.is_authenticated else "anonyme"
    with session_scope(current_settings()) as session:
        record(session, username, action, target, detail)


def recent(session: Session, limit: int = 200, username: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if username:
        query = query.where(AuditEntry.username == username)
    return list(session.scalars(query))
