"""SQLAlchemy tables of the knowledge base (2.0-style code on SQLAlchemy 1.4)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class Organisation(Base):
    """The hospital itself: one row."""

    __tablename__ = "organisation"

    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False)
    short_name = Column(String(80), nullable=False)
    address = Column(String(300), nullable=False)
    switchboard_phone = Column(String(40), nullable=False)
    switchboard_hours = Column(String(120), nullable=False)
    patient_portal = Column(String(120), nullable=False)


class Place(Base):
    """A place patients go to, with opening hours (reception, laboratory…)."""

    __tablename__ = "place"

    id = Column(Integer, primary_key=True)
    slug = Column(String(80), nullable=False, unique=True)
    name = Column(String(200), nullable=False)
    synonyms = Column(JSON, nullable=False, default=list)
    location = Column(String(200))
    phone = Column(String(40))
    always_open = Column(Boolean, nullable=False, default=False)
    note = Column(Text)
    hours = relationship(
        "OpeningHours", back_populates="place", cascade="all, delete-orphan", order_by="OpeningHours.weekday"
    )


class OpeningHours(Base):
    """One opening period of a place on one weekday (0 = Monday)."""

    __tablename__ = "opening_hours"

    id = Column(Integer, primary_key=True)
    place_id = Column(ForeignKey("place.id", ondelete="CASCADE"), nullable=False, index=True)
    weekday = Column(SmallInteger, nullable=False)
    opens = Column(Time, nullable=False)
    closes = Column(Time, nullable=False)
    place = relationship("Place", back_populates="hours")


class Ward(Base):
    """A ward patients stay in, with its visiting rules."""

    __tablename__ = "ward"

    id = Column(Integer, primary_key=True)
    slug = Column(String(80), nullable=False, unique=True)
    name = Column(String(200), nullable=False)
    synonyms = Column(JSON, nullable=False, default=list)
    is_default = Column(Boolean, nullable=False, default=False)
    note = Column(Text)
    rules = relationship(
        "VisitingRule", back_populates="ward", cascade="all, delete-orphan", order_by="VisitingRule.position"
    )


class VisitingRule(Base):
    """Who may visit a ward, when, and with which limits."""

    __tablename__ = "visiting_rule"

    id = Column(Integer, primary_key=True)
    ward_id = Column(ForeignKey("ward.id", ondelete="CASCADE"), nullable=False, index=True)
    position = Column(SmallInteger, nullable=False, default=0)
    audience = Column(String(120), nullable=False)
    all_day = Column(Boolean, nullable=False, default=False)
    opens = Column(Time)
    closes = Column(Time)
    max_visitors = Column(SmallInteger)
    min_age = Column(SmallInteger)
    ward = relationship("Ward", back_populates="rules")


class Article(Base):
    """A French text answer written by the editors (pre-op instructions, documents…)."""

    __tablename__ = "article"
    __table_args__ = (UniqueConstraint("slug"),)

    id = Column(Integer, primary_key=True)
    slug = Column(String(120), nullable=False)
    topic = Column(String(60), nullable=False, index=True)
    title = Column(String(300), nullable=False)
    body = Column(Text, nullable=False)
    keywords = Column(JSON, nullable=False, default=list)
    related = Column(JSON, nullable=False, default=list)
    source = Column(String(300), nullable=False)
    updated_at = Column(Date, nullable=False)
    show_updated_at = Column(Boolean, nullable=False, default=False)
    synced_at = Column(DateTime, nullable=False, default=dt.datetime.utcnow)


class KbVersion(Base):
    """One sync that changed something: what came in, from where, and a snapshot to roll back to."""

    __tablename__ = "kb_version"

    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, nullable=False, default=dt.datetime.utcnow)
    checksum = Column(String(64), nullable=False, index=True)
    source = Column(String(500), nullable=False)
    counts = Column(JSON, nullable=False)
    changes = Column(JSON, nullable=False)
    snapshot = Column(JSON, nullable=False)
