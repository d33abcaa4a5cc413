"""The studio's own tables (users, audit log, inbox decisions, jobs), in the knowledge base's database."""

from __future__ import annotations

import importlib
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, declarative_base

from core.settings import Settings
from kb_sync.db import get_engine, session_factory

Base = declarative_base()

# Modules that declare tables on `Base`: imported before the tables are created.
TABLE_MODULES = ("studio.accounts", "studio.audit", "studio.inbox", "studio.jobs")

# Columns added to a studio table after it was first created (create_all does not alter existing tables):
# (table, column, SQL definition valid on SQLite and PostgreSQL).
ADDED_COLUMNS = (("studio_users", "session_epoch", "INTEGER NOT NULL DEFAULT 0"),)


def init_db(settings: Settings) -> None:
    _create_tables(settings.db_url)


@lru_cache(maxsize=8)
def _create_tables(db_url: str) -> None:
    for name in TABLE_MODULES:
        importlib.import_module(name)
    engine = get_engine(db_url)
    Base.metadata.create_all(engine, checkfirst=True)
    for table, column, definition in ADDED_COLUMNS:
        if not _has_column(engine, table, column):
            try:
                with engine.begin() as connection:
                    connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {definition}"))
            except DBAPIError:
                if not _has_column(engine, table, column):  # else another process added it meanwhile
                    raise


def _has_column(engine, table: str, column: str) -> bool:
    return column in {c["name"] for c in inspect(engine).get_columns(table)}


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """A session on the studio's database, committed when the block ends without error."""
    _create_tables(settings.db_url)
    with session_factory(settings.db_url)() as session, session.begin():
        yield session
