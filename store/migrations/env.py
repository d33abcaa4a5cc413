"""Alembic environment of Accueil's one schema (run through `store.migrate`, or `uv run alembic`)."""

from __future__ import annotations

from alembic import context

from store.engine import get_engine
from store.migrate import include_name
from store.tables import metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        from core.settings import get_settings

        url = get_settings().db_url
    with get_engine(url).connect() as connection:
        _run(connection)
        connection.commit()


run_migrations_online()
