"""One sync: read and validate a source, then replace the knowledge base in one transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kb_sync.content import KnowledgeBaseContent
from kb_sync.db import get_engine, session_factory
from kb_sync.models import Base
from kb_sync.sources.base import Source
from kb_sync.writer import replace_content

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncResult:
    source: str
    counts: dict[str, int]


def create_schema(db_url: str) -> None:
    Base.metadata.create_all(get_engine(db_url))


def sync(source: Source, db_url: str) -> SyncResult:
    """Validate everything first; raises `ContentInvalid` before touching the database."""
    content: KnowledgeBaseContent = source.read()
    create_schema(db_url)
    with session_factory(db_url).begin() as session:
        replace_content(session, content)
    log.debug("Knowledge base synced from %s: %s", source.description, content.counts())
    return SyncResult(source=source.description, counts=content.counts())
