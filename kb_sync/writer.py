"""Writes validated content into SQL as one transaction: all of it, or nothing."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from kb_sync.content import KnowledgeBaseContent
from kb_sync.models import Article, OpeningHours, Organisation, Place, VisitingRule, Ward


def replace_content(session: Session, content: KnowledgeBaseContent) -> None:
    """Replace the whole knowledge base with `content`; the caller commits or rolls back."""
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
    for article in content.articles:
        session.add(Article(**{**article.dict(), "topic": article.topic.value}))
