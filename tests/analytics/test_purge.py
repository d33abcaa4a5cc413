"""`accueil purge` on the analytics tables: whole conversations past the cutoff, with their turns, and nothing else."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from accueil.retention import purge
from analytics.projection import project
from analytics.tables import Conversation, Turn
from core.settings import Settings
from store.engine import session_factory
from tests.analytics.scenario import write_traffic


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db_url=f"sqlite:///{tmp_path / 'accueil.db'}", tracker_db_url=f"sqlite:///{tmp_path / 'conversations.db'}", var_dir=tmp_path)


def rows(settings: Settings) -> tuple[int, int, dt.datetime]:
    with session_factory(settings.db_url)() as db:
        oldest = db.scalar(select(func.min(Conversation.ended_at)))
        return db.scalar(select(func.count(Conversation.id))), db.scalar(select(func.count(Turn.id))), oldest


def test_conversations_that_ended_before_the_cutoff_go_with_their_turns(settings: Settings) -> None:
    write_traffic(settings.conversations_db_url)
    project(settings)
    with session_factory(settings.db_url)() as db:
        ends = sorted(db.scalars(select(Conversation.ended_at)))
        kept_turns = db.scalar(select(func.count(Turn.id)).join(Conversation).where(Conversation.ended_at >= ends[3]))
    cutoff = ends[3].replace(tzinfo=dt.timezone.utc)  # the three conversations that ended first are past it

    dry = {c.table: c.rows for c in purge(settings, cutoff, dry_run=True) if c.table.startswith("analytics_")}
    assert dry["analytics_conversations"] == 3 and rows(settings)[0] == len(ends)

    done = {c.table: c.rows for c in purge(settings, cutoff) if c.table.startswith("analytics_")}
    assert done == dry
    conversations, turns, oldest = rows(settings)
    assert (conversations, turns, oldest) == (len(ends) - 3, kept_turns, ends[3])
