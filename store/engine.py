"""The one engine factory of Accueil's databases (SQLite or PostgreSQL), with its sessions."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker


# How long a query waits for a locked SQLite file, or a new PostgreSQL connection for the server (seconds).
DEFAULT_WAIT_SECONDS = 30.0


@lru_cache(maxsize=8)
def get_engine(db_url: str, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> Engine:
    """One engine per database URL (and wait) and process, created on first use.

    pool_pre_ping: a connection the server dropped (PostgreSQL restarted) is replaced at its next use, so the
    actions recover without a restart; a database away fails within `wait_seconds` instead of hanging."""
    url = make_url(db_url)
    # hide_parameters: a database error logged by the actions or the studio names no patient's words or number.
    kwargs: dict = {"future": True, "pool_pre_ping": True, "hide_parameters": True}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": wait_seconds}
    elif url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg2":
        kwargs["connect_args"] = {"connect_timeout": max(1, round(wait_seconds))}
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the action server keep reading the previous version while a sync writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    sqlite_secure_delete(dbapi_connection, _record)


def sqlite_secure_delete(dbapi_connection, _record=None) -> None:
    """A `connect` listener: this connection overwrites with zeros what it deletes (a per-connection setting),
    so a deleted row (a patient's message, a phone number) leaves no readable trace in the file's free space."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def session_factory(db_url: str, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(db_url, wait_seconds), future=True, expire_on_commit=False)
