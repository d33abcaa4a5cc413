"""The only door from the actions to the knowledge base: read-only, one session per call.

Returns plain frozen records, never ORM objects, so nothing outlives its session.
Every call reads the current database, so a new sync is seen at the next message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.settings import get_settings
from kb_sync import search_index
from kb_sync.models import Article, Organisation, Place, Ward
from kb_sync.search_index import SearchHit
from store.engine import DEFAULT_WAIT_SECONDS, session_factory


@dataclass(frozen=True)
class OrganisationInfo:
    name: str
    short_name: str
    address: str
    switchboard_phone: str
    switchboard_hours: str
    patient_portal: str


@dataclass(frozen=True)
class PlaceInfo:
    slug: str
    name: str
    synonyms: tuple[str, ...]
    location: str | None
    phone: str | None
    always_open: bool
    note: str | None
    hours: tuple[tuple[int, dt.time, dt.time], ...]


@dataclass(frozen=True)
class VisitingRuleInfo:
    audience: str
    all_day: bool
    opens: dt.time | None
    closes: dt.time | None
    max_visitors: int | None
    min_age: int | None


@dataclass(frozen=True)
class WardInfo:
    slug: str
    name: str
    synonyms: tuple[str, ...]
    is_default: bool
    note: str | None
    rules: tuple[VisitingRuleInfo, ...]


@dataclass(frozen=True)
class ArticleInfo:
    slug: str
    topic: str
    title: str
    body: str
    keywords: tuple[str, ...]
    related: tuple[str, ...]
    updated_at: dt.date
    show_updated_at: bool


Record = TypeVar("Record")


class KnowledgeBaseEmpty(LookupError):
    """The database holds no knowledge base yet (`accueil kb sync` never ran)."""


def _record(cls: type[Record], row: object, **values: object) -> Record:
    """A record of `cls` from the ORM row's attributes of the same names; `values` take precedence."""
    return cls(**{f.name: values[f.name] if f.name in values else getattr(row, f.name) for f in fields(cls)})


class KnowledgeBase:
    """Read access to the knowledge base. Blocking: call it from a worker thread."""

    def __init__(self, db_url: str, wait_seconds: float = DEFAULT_WAIT_SECONDS):
        self._sessions = session_factory(db_url, wait_seconds)

    def organisation(self) -> OrganisationInfo:
        with self._sessions() as session:
            row = session.execute(select(Organisation)).scalars().first()
            if row is None:
                raise KnowledgeBaseEmpty("no organisation row: run `accueil kb sync`")
            return _record(OrganisationInfo, row)

    def places(self) -> list[PlaceInfo]:
        with self._sessions() as session:
            rows = session.execute(select(Place).options(selectinload(Place.hours)).order_by(Place.id)).scalars()
            return [
                _record(
                    PlaceInfo,
                    row,
                    synonyms=tuple(row.synonyms or ()),
                    hours=tuple((h.weekday, h.opens, h.closes) for h in row.hours),
                )
                for row in rows
            ]

    def wards(self) -> list[WardInfo]:
        with self._sessions() as session:
            rows = session.execute(select(Ward).options(selectinload(Ward.rules)).order_by(Ward.id)).scalars()
            return [
                _record(
                    WardInfo,
                    row,
                    synonyms=tuple(row.synonyms or ()),
                    rules=tuple(_record(VisitingRuleInfo, rule) for rule in row.rules),
                )
                for row in rows
            ]

    def article(self, slug: str) -> ArticleInfo | None:
        with self._sessions() as session:
            row = session.execute(select(Article).where(Article.slug == slug)).scalars().first()
            return None if row is None else _record(ArticleInfo, row, keywords=tuple(row.keywords or ()), related=tuple(row.related or ()))

    def titles(self, slugs: list[str]) -> dict[str, str]:
        with self._sessions() as session:
            return dict(session.execute(select(Article.slug, Article.title).where(Article.slug.in_(slugs))).all())

    def search(self, question: str, limit: int = 3) -> list[SearchHit]:
        """The articles that best match a French question (full-text, French normalisation)."""
        with self._sessions() as session:
            return search_index.search(session, question, limit)


@lru_cache(maxsize=4)
def _knowledge_base(db_url: str, wait_seconds: float) -> KnowledgeBase:
    return KnowledgeBase(db_url, wait_seconds)


def get_knowledge_base() -> KnowledgeBase:
    """The repository of the configured database, created on first use (not at import)."""
    settings = get_settings()
    return _knowledge_base(settings.db_url, settings.db_wait_seconds)
