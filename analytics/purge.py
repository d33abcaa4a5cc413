"""Retention of the analytics tables: conversations past the retention period go, with their turns.

As for Rasa's tracker store (`accueil.retention.purge_conversations`), a conversation is
deleted whole once its last turn is older than the cutoff, never cut in half.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, inspect, select

from analytics.tables import Conversation, ProjectionState, Turn
from core.purging import PurgeCount, database_exists
from core.settings import Settings
from store.engine import get_engine


def purge_analytics(settings: Settings, cutoff: dt.datetime, dry_run: bool) -> list[PurgeCount]:
    """Deletes (or counts, with `dry_run`) the analytics conversations that ended before the cutoff, and their turns."""
    if not database_exists(settings.db_url):
        return []
    engine = get_engine(settings.db_url)
    limit = cutoff.astimezone(dt.timezone.utc).replace(tzinfo=None)
    with engine.begin() as connection:
        if not inspect(connection).has_table(Conversation.__table__.name) or connection.scalar(
            select(func.count()).select_from(ProjectionState)
        ) == 0:
            return []  # the projection never ran: nothing of the analytics to purge or report
        old = select(Conversation.id).where(Conversation.ended_at < limit)
        conversations = connection.scalar(select(func.count()).select_from(old.subquery()))
        turns = select(func.count()).select_from(Turn).where(Turn.conversation_id.in_(old))
        if dry_run:
            turn_rows = connection.scalar(turns)
        else:
            turn_rows = connection.execute(delete(Turn).where(Turn.conversation_id.in_(old))).rowcount
            connection.execute(delete(Conversation).where(Conversation.ended_at < limit))
    return [PurgeCount(Turn.__table__.name, turn_rows), PurgeCount(Conversation.__table__.name, conversations)]
