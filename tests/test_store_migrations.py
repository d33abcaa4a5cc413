"""One Alembic history for every table: a database made before it is upgraded in place, rows kept, and any
database at head matches `store.tables` exactly, on SQLite and on PostgreSQL.

`tests/store/today_*.sql` are databases made by the code before the one store (commit b07ab11: the knowledge
base's migration 0001, then each package's `create_all` on first use), with one row in each table, dumped as
SQL (SQLite: its schema and rows, the FTS5 index included; PostgreSQL: `pg_dump --no-owner --no-privileges
--inserts`, psql's meta-commands and the search_path reset left out).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url

from actions.records import HandoverRequest, save
from store.engine import get_engine
from store.migrate import alembic_config, include_name, migrate, upgrade
from store.tables import metadata

FIXTURES = Path(__file__).parent / "store"
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def load(url: str, sql: str) -> None:
    """Runs a dump's SQL on an empty database, through the driver (no SQLAlchemy pragma on the way)."""
    if make_url(url).get_backend_name() == "sqlite":
        connection = sqlite3.connect(make_url(url).database)
        connection.executescript(sql)
        connection.close()
        return
    import psycopg2

    connection = psycopg2.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
    with connection, connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()


def differences(url: str) -> list:
    with get_engine(url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name, "compare_type": True})
        return compare_metadata(context, metadata)


def revision(url: str) -> str | None:
    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def row_counts(url: str) -> dict[str, int]:
    with get_engine(url).connect() as connection:
        return {table.name: connection.scalar(select(func.count()).select_from(table)) for table in metadata.sorted_tables}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_database_made_before_the_one_store_is_upgraded_in_place(request, tmp_path: Path, database: str) -> None:
    url = f"sqlite:///{tmp_path / 'today.db'}" if database == "sqlite" else request.getfixturevalue("pg_url")
    load(url, (FIXTURES / f"today_{database}.sql").read_text(encoding="utf-8"))
    assert revision(url) == "0001"
    before = row_counts(url)
    assert set(before.values()) == {1}, before  # one row in every table, as made by the code before

    upgrade(url)

    assert revision(url) == HEAD
    assert row_counts(url) == before
    assert differences(url) == []
    with get_engine(url).connect() as connection:
        assert connection.scalar(text("SELECT session_epoch FROM studio_users WHERE username = 'admin'")) == 1
        if database == "sqlite":
            found = connection.scalars(text("SELECT slug FROM article_search WHERE article_search MATCH 'jeun'")).all()
        else:
            found = connection.scalars(text("SELECT slug FROM article WHERE search_vector @@ plainto_tsquery('french', 'jeun')")).all()
        assert found == ["preparation-operation"]
    # The tables keep taking rows (PostgreSQL's sequences carry on after the dump's rows).
    save(url, HandoverRequest(sender_id="s3", kind="transfer", service="urgences", summary="Transfert", created_at=dt.datetime(2026, 12, 1, 10)))
    with get_engine(url).connect() as connection:
        assert connection.scalars(select(HandoverRequest.__table__.c.id).order_by(HandoverRequest.__table__.c.id)).all() == [1, 2]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_tables_a_package_never_created_are_created_beside_the_others(request, tmp_path: Path, database: str) -> None:
    """A database where the analytics and the deployments never ran: their tables come, the others' rows stay."""
    url = f"sqlite:///{tmp_path / 'today.db'}" if database == "sqlite" else request.getfixturevalue("pg_url")
    load(url, (FIXTURES / f"today_{database}.sql").read_text(encoding="utf-8"))
    never = ("analytics_turns", "analytics_conversations", "analytics_state", "model_evaluations", "model_deployments")
    with get_engine(url).begin() as connection:
        for name in never:
            connection.execute(text(f"DROP TABLE {name}"))
    assert differences(url) != []

    upgrade(url)

    assert revision(url) == HEAD and differences(url) == []
    counts = row_counts(url)
    assert {name: counts[name] for name in never} == dict.fromkeys(never, 0)
    assert {count for name, count in counts.items() if name not in never} == {1}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_an_empty_database_is_brought_to_head_and_matches_the_tables(request, tmp_path: Path, database: str) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}" if database == "sqlite" else request.getfixturevalue("pg_url")
    assert migrate(url) is True
    assert revision(url) == HEAD
    assert differences(url) == []
    assert set(inspect(get_engine(url)).get_table_names()) >= {table.name for table in metadata.sorted_tables}
    upgrade(url)  # at head: nothing to do
    assert revision(url) == HEAD


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_processes_starting_at_once_upgrade_the_database_once(request, tmp_path: Path, database: str) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}" if database == "sqlite" else request.getfixturevalue("pg_url")
    start, errors = threading.Barrier(3), []

    def run() -> None:
        start.wait()
        try:
            upgrade(url)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=run) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    assert revision(url) == HEAD and differences(url) == []
