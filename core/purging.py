"""What every purge of `accueil purge` shares: the count it reports, whether a database is there to purge, and the
deletion of the rows dated before the cutoff (each table's owner exposes its purge, `accueil.retention` composes them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from sqlalchemy import Column, delete, func, inspect, select
from sqlalchemy.engine import Connection, make_url


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


def naive_utc(cutoff: dt.datetime) -> dt.datetime:
    """The cutoff as the naive UTC datetimes the tables store."""
    return cutoff.astimezone(dt.timezone.utc).replace(tzinfo=None) if cutoff.tzinfo else cutoff


def delete_older(connection: Connection, dated: Iterable[Column], cutoff: dt.datetime, dry_run: bool) -> list[PurgeCount]:
    """Deletes (or counts, with `dry_run`) the rows of each column's table dated before the cutoff, in the
    connection's transaction; a table the database does not hold yet is skipped."""
    limit = naive_utc(cutoff)
    existing = set(inspect(connection).get_table_names())
    counts = []
    for column in dated:
        table = column.table
        if table.name not in existing:
            continue
        if dry_run:
            rows = connection.scalar(select(func.count()).select_from(table).where(column < limit))
        else:
            rows = connection.execute(delete(table).where(column < limit)).rowcount
        counts.append(PurgeCount(table.name, rows))
    return counts
