"""The handover requests the assistant took (transfers and callback requests), read for the staff who take over.

The action server writes them into `handover_requests` (the knowledge base's database, described in
`actions/records.py`); this module reads that table read-only. Each request carries the one-line summary
of the conversation, ending with the caller's previous contacts when he was known by his number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import inspect, select

from actions.records import HandoverRequest as HandoverRequestRow
from core.catalogue import HANDOVER_KIND_LABELS, channel_label
from core.settings import Settings
from store.engine import get_engine

HANDOVER_REQUESTS = HandoverRequestRow.__table__


@dataclass(frozen=True)
class HandoverRequest:
    received: dt.datetime  # local time
    kind: str  # French
    channel: str
    service: str
    name: str | None
    phone: str | None
    reason: str | None
    callback_at: dt.datetime | None
    summary: str


def handover_requests(settings: Settings, days: int, service: str | None = None, limit: int = 500) -> list[HandoverRequest]:
    """The requests of the last `days` days (of `service` if given), newest first."""
    engine = get_engine(settings.db_url)
    if not inspect(engine).has_table(HANDOVER_REQUESTS.name):
        return []
    since = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(days=days)
    query = select(HANDOVER_REQUESTS).where(HANDOVER_REQUESTS.c.created_at >= since)
    if service:
        query = query.where(HANDOVER_REQUESTS.c.service == service)
    zone = ZoneInfo(settings.timezone)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(HANDOVER_REQUESTS.c.created_at.desc()).limit(limit)).all()
    return [
        HandoverRequest(
            received=row.created_at.replace(tzinfo=dt.timezone.utc).astimezone(zone).replace(tzinfo=None),
            kind=HANDOVER_KIND_LABELS.get(row.kind, row.kind),
            channel=channel_label(row.channel) or "inconnu",
            service=row.service,
            name=row.name,
            phone=row.phone,
            reason=row.reason,
            callback_at=row.callback_at,
            summary=row.summary,
        )
        for row in rows
    ]


def services(settings: Settings) -> list[str]:
    """The services that received requests, for the filter."""
    engine = get_engine(settings.db_url)
    if not inspect(engine).has_table(HANDOVER_REQUESTS.name):
        return []
    with engine.connect() as connection:
        return sorted(connection.scalars(select(HANDOVER_REQUESTS.c.service).distinct()))
