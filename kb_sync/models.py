"""The knowledge base's classes, mapped onto its tables in `store.tables` (2.0-style code on SQLAlchemy 1.4)."""

from __future__ import annotations

from sqlalchemy.orm import relationship

from store import tables
from store.tables import Base


class Organisation(Base):
    """The hospital itself: one row."""

    __table__ = tables.organisation


class Place(Base):
    """A place patients go to, with opening hours (reception, laboratory…)."""

    __table__ = tables.place
    hours = relationship(
        "OpeningHours", back_populates="place", cascade="all, delete-orphan", order_by="OpeningHours.weekday"
    )


class OpeningHours(Base):
    """One opening period of a place on one weekday (0 = Monday)."""

    __table__ = tables.opening_hours
    place = relationship("Place", back_populates="hours")


class Ward(Base):
    """A ward patients stay in, with its visiting rules."""

    __table__ = tables.ward
    rules = relationship(
        "VisitingRule", back_populates="ward", cascade="all, delete-orphan", order_by="VisitingRule.position"
    )


class VisitingRule(Base):
    """Who may visit a ward, when, and with which limits."""

    __table__ = tables.visiting_rule
    ward = relationship("Ward", back_populates="rules")


class Article(Base):
    """A French text answer written by the editors (pre-op instructions, documents…)."""

    __table__ = tables.article


class KbVersion(Base):
    """One sync that changed something: what came in, from where, and a snapshot to roll back to."""

    __table__ = tables.kb_version
