"""Alembic environment of the knowledge base schema (run through `kb_sync.schema.upgrade`)."""

from __future__ import annotations

from alembic import context

from kb_sync.db import get_engine
from kb_sync.models import Base


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
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
