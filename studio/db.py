"""The studio's own tables (users, audit log, inbox decisions, jobs), in the knowledge base's database."""

from __future__ import annotations

import importlib
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

from sqlalchemy.orm import Session, declarative_base

from accueil.settings import Settings
from kb_sync.db import get_engine, session_factory

Base = declarative_base()

# Modules that declare tables on `Base`: imported before the tables are created.
TABLE_MODULES = ("studio.accounts", "studio.audit", "studio.inbox", "studio.jobs")


def init_db(settings: Settings) -> None:
    _create_tables(settings.db_url)


@lru_cache(maxsize=8)
def _create_tables(db_url: str) -> None:
    for name in TABLE_MODULES:
        importlib.import_module(name)
    Base.metadata.create_all(get_engine(db_url), checkfirst=True)


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """A session on the studio's database, committed when the block ends without error."""
    _create_tables(settings.db_url)
    with session_factory(settings.db_url)() as session, session.begin():
        yield session
