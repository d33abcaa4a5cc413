"""Creates or upgrades Accueil's schema with Alembic, on SQLite or PostgreSQL: the one way tables come to be."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from store.engine import DEFAULT_WAIT_SECONDS, get_engine

MIGRATIONS = Path(__file__).parent / "migrations"

# Key of the PostgreSQL advisory lock that lets one process at a time migrate a database.
_PG_LOCK_KEY = 0x41434355  # "ACCU"

# What lives in the database beside the metadata, left out of the comparisons (autogenerate, tests):
# the articles' full-text index (SQLite's FTS5 table and its shadow tables, PostgreSQL's column and index),
# and Rasa's tracker store when it shares the database.
_OUTSIDE_TABLES = ("article_search", "events")
_OUTSIDE_COLUMNS = ("search_vector",)
_OUTSIDE_INDEXES = ("ix_article_search_vector",)


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's filter: False for what the schema holds beside the metadata."""
    if type_ == "table":
        return not any(name == table or name.startswith(f"{table}_") for table in _OUTSIDE_TABLES)
    if type_ == "column":
        return name not in _OUTSIDE_COLUMNS
    if type_ == "index":
        return name not in _OUTSIDE_INDEXES
    return True


def alembic_config(db_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    return config


def upgrade(db_url: str, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> None:
    """Brings the database to the latest schema; does nothing when it is already there.

    One process at a time: SQLite's write lock (`BEGIN IMMEDIATE`) or a PostgreSQL advisory lock is held for the
    whole upgrade, in one transaction, so a process that starts meanwhile waits, then finds the schema done."""
    engine = get_engine(db_url, wait_seconds)
    config = alembic_config(db_url)
    with engine.connect() as connection:  # at head already (the usual case): no lock taken
        if MigrationContext.configure(connection).get_current_revision() == ScriptDirectory.from_config(config).get_current_head():
            return
    with engine.connect() as connection:
        backend = make_url(db_url).get_backend_name()
        if backend == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif backend == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()


@lru_cache(maxsize=8)
def migrate(db_url: str, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> bool:
    """`upgrade` once per database and process: what each writer calls before its first use of the database."""
    upgrade(db_url, wait_seconds)
    return True
