"""Writes validated content into SQL as one transaction: all of it, or nothing."""

from __future__ import annotations

from typing import Callable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from kb_sync.content import KnowledgeBaseContent
from kb_sync.models import Article, OpeningHours, Organisation, Place, VisitingRule, Ward


def replace_content(session: Session, content: KnowledgeBaseContent, progress: Callable[[int, int], None] | None = None) -> None:
    """Replace the whole knowledge base with `content`; the caller commits or rolls back.

    `progress(done, total)` is called after each item written.
    """
    total = len(content.places) + len(content.wards) + len(content.articles)
    done = 0

    def advance() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    for table in (OpeningHours, VisitingRule, Place, Ward, Article, Organisation):
        session.execute(delete(table))
    session.add(Organisation(**content.organisation.dict()))
    for place in content.places:
        session.add(
            Place(
                slug=place.slug,
                name=place.name,
                synonyms=place.synonyms,
                location=place.location,
                phone=place.phone,
                always_open=place.always_open,
                note=place.note,
                hours=[
                    OpeningHours(weekday=day, opens=period.opens, closes=period.closes)
                    for period in place.hours
                    for day in period.weekdays
                ],
            )
        )
        advance()
    for ward in content.wards:
        session.add(
            Ward(
                slug=ward.slug,
                name=ward.name,
                synonyms=ward.synonyms,
                is_default=ward.default,
                note=ward.note,
                rules=[VisitingRule(position=index, **rule.dict()) for index, rule in enumerate(ward.rules)],
            )
        )
        advance()
    for article in content.articles:
        session.add(Article(**{**article.dict(), "topic": article.topic.value}))
        advance()
