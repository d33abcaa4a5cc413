"""The studio's sessions on its database (the knowledge base's); its tables (users, audit log, inbox decisions,
jobs) are described in `store.tables`, mapped by `studio.accounts`, `studio.audit`, `studio.inbox` and `studio.jobs`."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.orm import Session

from core.settings import Settings
from store.engine import session_factory
from store.migrate import migrate


def init_db(settings: Settings) -> None:
    migrate(settings.db_url)


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """A session on the studio's database, committed when the block ends without error."""
    migrate(settings.db_url)
    with session_factory(settings.db_url)() as session, session.begin():
        yield session
