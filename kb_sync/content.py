"""Validated knowledge base content (pydantic v1): what the editors' sources must hold."""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Optional

from pydantic import BaseModel, Field, root_validator, validator

from kb_sync.french import strip_accents

WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
_TIME_RE = re.compile(r"^(\d{1,2})[:hH](\d{2})?(?::00)?$")


class Topic(str, Enum):
    """The topics an article can belong to."""

    acces = "acces"
    contacts = "contacts"
    horaires = "horaires"
    visites = "visites"
    preoperatoire = "preoperatoire"
    admission = "admission"
    facturation = "facturation"
    documents = "documents"
    rendez_vous = "rendez-vous"
    securite = "securite"


def parse_time(value: object) -> dt.time:
    """Accept 07:30, 7h30, 7h and 24:00 (end of day); French error otherwise."""
    if isinstance(value, dt.time):
        return value
    match = _TIME_RE.match(str(value).strip())
    if not match:
        raise ValueError(f"heure « {value} » invalide (format attendu : HH:MM, par exemple 07:30)")
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if (hours, minutes) == (24, 0):
        return dt.time(23, 59)
    if hours > 23 or minutes > 59:
        raise ValueError(f"heure « {value} » invalide : elle doit être entre 00:00 et 24:00")
    return dt.time(hours, minutes)


def parse_days(value: str) -> list[int]:
    """'lundi-vendredi', 'lundi, mercredi', 'tous les jours' -> weekday numbers (0 = Monday)."""
    text = strip_accents(str(value).lower()).strip()
    if text in ("tous les jours", "toute la semaine", "lundi-dimanche"):
        return list(range(7))
    days: list[int] = []
    folded_names = [strip_accents(name.lower()) for name in WEEKDAYS]
    for part in re.split(r"\s*(?:,|\bet\b)\s*", text):
        if not part:
            continue
        bounds = [b.strip() for b in re.split(r"\s*(?:-|\bau\b|\ba\b)\s*", part) if b.strip()]
        for bound in bounds:
            if bound not in folded_names:
                raise ValueError(
                    f"jour « {bound} » inconnu (jours permis : {', '.join(WEEKDAYS)}, ou « tous les jours »)"
                )
        if len(bounds) == 1:
            days.append(folded_names.index(bounds[0]))
        elif len(bounds) == 2:
            start, end = folded_names.index(bounds[0]), folded_names.index(bounds[1])
            if end < start:
                raise ValueError(f"plage de jours « {part} » à l'envers")
            days.extend(range(start, end + 1))
        else:
            raise ValueError(f"plage de jours « {part} » incompréhensible")
    if not days:
        raise ValueError("aucun jour indiqué")
    if len(set(days)) != len(days):
        raise ValueError(f"un jour apparaît deux fois dans « {value} »")
    return sorted(days)


class _Strict(BaseModel):
    class Config:
        extra = "forbid"
        anystr_strip_whitespace = True
        min_anystr_length = 1


class HoursIn(_Strict):
    """Opening period: the same hours on the listed days."""

    days: str
    opens: dt.time
    closes: dt.time

    _parse_times = validator("opens", "closes", pre=True, allow_reuse=True)(parse_time)

    @validator("days")
    def _days_known(cls, value: str) -> str:
        parse_days(value)
        return value

    @validator("closes")
    def _closes_after_opens(cls, closes: dt.time, values: dict) -> dt.time:
        opens = values.get("opens")
        if opens is not None and closes <= opens:
            raise ValueError(f"l'heure de fermeture ({closes:%H:%M}) doit être après l'heure d'ouverture ({opens:%H:%M})")
        return closes

    @property
    def weekdays(self) -> list[int]:
        return parse_days(self.days)


class PlaceIn(_Strict):
    slug: str = Field(regex=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    synonyms: list[str] = []
    location: Optional[str] = None
    phone: Optional[str] = None
    always_open: bool = False
    hours: list[HoursIn] = []
    note: Optional[str] = None

    @root_validator(skip_on_failure=True)
    def _hours_or_always_open(cls, values: dict) -> dict:
        if values["always_open"] and values["hours"]:
            raise ValueError("« always_open » et « hours » ne vont pas ensemble : choisissez l'un ou l'autre")
        if not values["always_open"] and not values["hours"]:
            raise ValueError("indiquez les horaires (« hours ») ou « always_open: true »")
        seen: set[int] = set()
        for period in values["hours"]:
            overlap = seen.intersection(period.weekdays)
            if overlap:
                raise ValueError(f"le {WEEKDAYS[min(overlap)]} a deux plages d'horaires")
            seen.update(period.weekdays)
        return values


class VisitingRuleIn(_Strict):
    audience: str
    all_day: bool = False
    opens: Optional[dt.time] = None
    closes: Optional[dt.time] = None
    max_visitors: Optional[int] = Field(default=None, gt=0)
    min_age: Optional[int] = Field(default=None, gt=0)

    @validator("opens", "closes", pre=True)
    def _parse_optional_times(cls, value: object) -> dt.time | None:
        return None if value is None else parse_time(value)

    @root_validator(skip_on_failure=True)
    def _hours_consistent(cls, values: dict) -> dict:
        opens, closes = values.get("opens"), values.get("closes")
        if values["all_day"]:
            if opens or closes:
                raise ValueError("« all_day » et des horaires ne vont pas ensemble")
        elif opens is None or closes is None:
            raise ValueError("indiquez « opens » et « closes », ou « all_day: true »")
        elif closes <= opens:
            raise ValueError(f"l'heure de fin ({closes:%H:%M}) doit être après l'heure de début ({opens:%H:%M})")
        return values


class WardIn(_Strict):
    slug: str = Field(regex=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    synonyms: list[str] = []
    default: bool = False
    rules: list[VisitingRuleIn] = Field(min_items=1)
    note: Optional[str] = None


class OrganisationIn(_Strict):
    name: str
    short_name: str
    address: str
    switchboard_phone: str
    switchboard_hours: str
    patient_portal: str


class ArticleIn(_Strict):
    slug: str = Field(regex=r"^[a-z0-9][a-z0-9-]*$")
    topic: Topic
    title: str
    body: str
    keywords: list[str] = []
    related: list[str] = []
    source: str
    updated_at: dt.date
    show_updated_at: bool = False


class KnowledgeBaseContent(BaseModel):
    """Everything one sync writes, already checked item by item by the source."""

    organisation: OrganisationIn
    places: list[PlaceIn]
    wards: list[WardIn]
    articles: list[ArticleIn]

    def counts(self) -> dict[str, int]:
        return {"places": len(self.places), "wards": len(self.wards), "articles": len(self.articles)}
