"""What every purge of `accueil purge` shares: the count it reports, and whether a database is there to purge."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url


@dataclass(frozen=True)
class PurgeCount:
    """What a purge deleted (or, in a dry run, would delete) in one table."""

    table: str
    rows: int
    detail: str = ""  # e.g. "12 conversations"


def database_exists(url: str) -> bool:
    """False for a SQLite file that does not exist yet (never created by a purge)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return True
    return Path(parsed.database).exists()
