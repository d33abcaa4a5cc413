"""One sync: read and validate a source, compare with the current version, write it in one transaction.

Nothing is written when the source is invalid (`ContentInvalid`), when it is
unchanged, or on a dry run. A write replaces the knowledge base, rebuilds the
search index and records a version, all in the same transaction: readers see
the previous version until the commit, then the new one.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kb_sync import search_index
from kb_sync.content import KnowledgeBaseContent
from kb_sync.models import KbVersion
from kb_sync.sources.base import Source
from kb_sync.versions import Changes, checksum, diff, latest_version, snapshot
from kb_sync.writer import replace_content
from store.engine import session_factory
from store.migrate import upgrade

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


class UnknownVersion(LookupError):
    pass


@dataclass(frozen=True)
class SyncReport:
    source: str
    counts: dict[str, int]
    changes: Changes
    version: int | None
    dry_run: bool = False

    @property
    def unchanged(self) -> bool:
        return not self.changes


def _lock(session: Session) -> None:
    """One sync at a time on PostgreSQL (a scheduled one and a manual one may meet)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(4242001)"))


def _write(
    session: Session, content: KnowledgeBaseContent, data: dict, digest: str, source: str, changes: Changes, progress: Progress | None
) -> int:
    replace_content(session, content, progress)
    session.flush()
    search_index.rebuild(session, [(a.slug, a.title, a.keywords, a.body) for a in content.articles])
    version = KbVersion(
        created_at=dt.datetime.utcnow(),
        checksum=digest,
        source=source,
        counts=content.counts(),
        changes=changes.as_dict(),
        snapshot=data,
    )
    session.add(version)
    session.flush()
    return version.id


def _last_synced_from(session: Session, source: str) -> str | None:
    """The checksum of the last version synced from `source`, or None."""
    return session.scalar(select(KbVersion.checksum).where(KbVersion.source == source).order_by(KbVersion.id.desc()).limit(1))


def sync(source: Source, db_url: str, dry_run: bool = False, progress: Progress | None = None, only_if_changed: bool = False) -> SyncReport:
    """Validate everything first; raises `ContentInvalid` before touching the database.

    `only_if_changed` (a restart of `accueil run`): nothing is written either when the source still holds what was
    last synced from it, so that a rollback made since (`accueil kb rollback`) is not undone by a restart."""
    content = source.read()
    upgrade(db_url)
    data = snapshot(content)
    digest = checksum(data)
    with session_factory(db_url).begin() as session:
        _lock(session)
        latest = latest_version(session)
        if latest is not None and latest.checksum == digest:
            return SyncReport(source.description, content.counts(), Changes(), None, dry_run)
        if only_if_changed and _last_synced_from(session, source.description) == digest:
            return SyncReport(source.description, content.counts(), Changes(), None, dry_run)
        changes = diff(latest.snapshot if latest else None, data)
        if dry_run:
            return SyncReport(source.description, content.counts(), changes, None, dry_run=True)
        version = _write(session, content, data, digest, source.description, changes, progress)
    log.debug("Knowledge base version %s from %s: %s", version, source.description, changes.describe())
    return SyncReport(source.description, content.counts(), changes, version)


def rollback(db_url: str, version_id: int, progress: Progress | None = None) -> SyncReport:
    """Restore the content of version `version_id`, recorded as a new version."""
    upgrade(db_url)
    with session_factory(db_url).begin() as session:
        _lock(session)
        target = session.get(KbVersion, version_id)
        if target is None:
            raise UnknownVersion(version_id)
        content = KnowledgeBaseContent.parse_obj(target.snapshot)
        latest = latest_version(session)
        description = f"retour à la version {version_id}"
        if latest is not None and latest.checksum == target.checksum:
            return SyncReport(description, content.counts(), Changes(), None)
        changes = diff(latest.snapshot if latest else None, target.snapshot)
        version = _write(session, content, target.snapshot, target.checksum, description, changes, progress)
    return SyncReport(description, content.counts(), changes, version)
