"""Retention of personal data (GDPR): deletes the conversations and their traces past the retention period.

`accueil purge` deletes, for a cutoff = now - the retention period (`settings.retention_days`
or `--older-than`):

- in Rasa's SQL tracker store (`settings.conversations_db_url`, table `events`), every event of
  each conversation (a `sender_id`) whose **last** event is older than the cutoff. A conversation is
  deleted whole or kept whole, never cut in half: one still going on, or taken up again since,
  keeps its earlier events until it has been silent for the whole retention period;
- in the knowledge base's database (`settings.db_url`), the rows older than the cutoff of
  `answer_feedback` and `handover_requests` (column `created_at`) and of the contact history
  `contact_history` (its last update, `updated_at`): `actions.records.purge`; of the studio's inbox
  decisions `studio_inbox_decisions` (column `at`): `studio.inbox.purge_decisions`.

Each owner of a table exposes its purge and this module composes them (`PURGES`). A table (or a SQLite file)
that does not exist yet is skipped. Each purge runs in one transaction. The analytics tables
(`analytics.purge`) are purged the same way, and the log files under VAR_DIR (`*.log` and their rotated
copies, `core.logs.purge_logs`) last written before the cutoff are deleted.

Deleted must mean erased: SQLite's connections delete with `secure_delete` (freed space overwritten with
zeros), and after each purge every SQLite file is rebuilt by `VACUUM` and its WAL emptied;
on PostgreSQL the purged tables are vacuumed (`VACUUM FULL` with `ACCUEIL_PURGE_VACUUM_FULL`, which
rewrites them but locks them meanwhile: a plain `VACUUM` may leave a deleted row's bytes in a page's free
space until new rows overwrite them).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Callable, Iterable, Sequence, Union

from sqlalchemy import create_engine, delete, event, func, inspect, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from core.purging import PurgeCount, database_exists
from core.rasa_events import EVENTS, has_events_table
from core.settings import Settings

# A purge: (settings, cutoff as an aware UTC datetime, dry_run) -> its count(s). Runs its database's deletes in one
# transaction and writes nothing when dry_run is true.
Purge = Callable[[Settings, dt.datetime, bool], Union[PurgeCount, Sequence[PurgeCount]]]


class RetentionError(ValueError):
    """A retention period that cannot be read; the message is in French, for the command line."""


class EraseError(RuntimeError):
    """The rows were deleted but the space they held could not be erased (VACUUM); in French, for the command line."""


_PERIOD = re.compile(r"^\s*(\d+)\s*([a-z]*)\s*$")
_UNITS = {"": 1, "d": 1, "j": 1, "w": 7, "s": 7}


def parse_period(text: str) -> dt.timedelta:
    """`90d` / `90j` / `90` → 90 days; `12w` / `12s` → 12 weeks. At least one day."""
    match = _PERIOD.match(text.lower())
    if match is None or match.group(2) not in _UNITS:
        raise RetentionError(
            f"Durée illisible : « {text} ». Écrivez un nombre de jours (« 90d » ou « 90j ») ou de semaines (« 12w » ou « 12s »)."
        )
    days = int(match.group(1)) * _UNITS[match.group(2)]
    if days < 1:
        raise RetentionError(f"Durée trop courte : « {text} ». La durée de conservation est d'un jour au moins.")
    return dt.timedelta(days=days)


def cutoff_for(period: dt.timedelta, now: dt.datetime | None = None) -> dt.datetime:
    """The instant (aware, UTC) before which data is deleted."""
    return (now or dt.datetime.now(dt.timezone.utc)) - period


def _engine(url: str) -> Engine:
    from store.engine import sqlite_secure_delete

    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, future=True)
    engine = create_engine(url, future=True, connect_args={"timeout": 30})
    event.listen(engine, "connect", sqlite_secure_delete)
    return engine


def erase_freed_space(settings: Settings, tables: Iterable[str]) -> None:
    """After the deletes: each SQLite file rebuilt without the deleted rows (`VACUUM`, then its WAL truncated),
    and on PostgreSQL each of `tables` vacuumed. Raises `EraseError`."""
    names = set(tables)
    for url in dict.fromkeys([settings.conversations_db_url, settings.db_url]):
        if not database_exists(url):
            continue
        engine = _engine(url)
        try:
            with engine.connect() as connection:
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM runs outside a transaction
                if engine.dialect.name == "sqlite":
                    connection.exec_driver_sql("VACUUM")
                    if connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal":
                        busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()[0]
                        if busy:
                            raise EraseError(f"le journal WAL de {make_url(url).database} est en cours de lecture et n'a pas pu être vidé")
                    continue
                vacuum = "VACUUM FULL" if settings.purge_vacuum_full else "VACUUM"
                quote = engine.dialect.identifier_preparer.quote
                for name in sorted(names & set(inspect(connection).get_table_names())):
                    connection.exec_driver_sql(f"{vacuum} {quote(name)}")
        except SQLAlchemyError as exc:
            where = make_url(url).database
            raise EraseError(f"compactage de la base {where} impossible ({exc.__class__.__name__})") from exc
        finally:
            engine.dispose()


def purge_conversations(settings: Settings, cutoff: dt.datetime, dry_run: bool) -> list[PurgeCount]:
    """Rasa's tracker store: the events of the conversations whose last event is older than the cutoff."""
    url = settings.conversations_db_url
    if not database_exists(url):
        return []
    engine = _engine(url)
    try:
        with engine.begin() as connection:
            if not has_events_table(connection):
                return []
            old = (
                select(EVENTS.c.sender_id).group_by(EVENTS.c.sender_id).having(func.max(EVENTS.c.timestamp) < cutoff.timestamp())
            )
            conversations = connection.scalar(select(func.count()).select_from(old.subquery()))
            if dry_run:
                rows = connection.scalar(select(func.count()).select_from(EVENTS).where(EVENTS.c.sender_id.in_(old)))
            else:
                rows = connection.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(old))).rowcount
    finally:
        engine.dispose()
    return [PurgeCount("events", rows, f"{conversations} conversation{'s' if conversations > 1 else ''}")]


def _purge_records(settings: Settings, cutoff: dt.datetime, dry_run: bool) -> list[PurgeCount]:
    from actions.records import purge as purge_records

    return purge_records(settings, cutoff, dry_run)


def _purge_inbox(settings: Settings, cutoff: dt.datetime, dry_run: bool) -> list[PurgeCount]:
    from studio.inbox import purge_decisions

    return purge_decisions(settings, cutoff, dry_run)


def _purge_analytics(settings: Settings, cutoff: dt.datetime, dry_run: bool) -> list[PurgeCount]:
    from analytics.purge import purge_analytics

    return purge_analytics(settings, cutoff, dry_run)


def _purge_logs(settings: Settings, cutoff: dt.datetime, dry_run: bool) -> list[PurgeCount]:
    from core.logs import purge_logs

    return purge_logs(settings, cutoff, dry_run)


# Every purge `accueil purge` runs, in order.
PURGES: list[Purge] = [purge_conversations, _purge_records, _purge_inbox, _purge_analytics, _purge_logs]


def purge(
    settings: Settings, cutoff: dt.datetime, dry_run: bool = False, purges: Iterable[Purge] | None = None
) -> list[PurgeCount]:
    """Runs every registered purge; returns the count of each table purged (or that would be, with `dry_run`)."""
    counts: list[PurgeCount] = []
    for run in PURGES if purges is None else purges:
        result = run(settings, cutoff, dry_run)
        counts.extend([result] if isinstance(result, PurgeCount) else result)
    if not dry_run:  # also erases what an interrupted purge or another process deleted before
        erase_freed_space(settings, [count.table for count in counts])
    return counts
