"""The indicators of a period, computed on the analytics projection (see `analytics.projection`).

For the conversations started in [start, end) (the hospital's local time), optionally of one
channel (`web`, `voice`):

- volume: conversations by hour of day (0-23) and by weekday (0 = Monday), local time;
- call reasons: conversations by main intent (the first substantive one), most frequent first;
- recontact: a conversation is followed by a recontact when the same person (the caller's
  pseudonymised phone number when known, else the same conversation id) starts another
  conversation with the same main intent less than 7 days after it started (any channel, even
  after `end`); recontact rate = such conversations / conversations with a call reason;
- containment rate: conversations with a call reason whose outcome is `answered` and that are not
  followed by a recontact / conversations with a call reason;
- fallback rate: patient messages that hit the fallback / all patient messages of the conversations;
- handover rate: conversations handed over (transfer or callback request) / all conversations, and
  the number of handovers by reason: by service and by main intent;
- satisfaction: "oui" / ("oui" + "non") answers to the feedback question, overall and per judged intent;
- irritants: per intent, the fallbacks (fallback messages of the conversations with that main
  intent, or `(sans motif)`), the "non" answers (per judged intent), the recontacts (per main intent)
  and the handovers (per main intent, or `(sans motif)`); ranked by their total;
- calls avoided = contained conversations; hours saved = calls avoided × handling minutes / 60;
  ETP saved = hours saved / yearly hours of an ETP (settings `analytics_handling_minutes`,
  `analytics_etp_hours`, overridable per call).

A rate whose denominator is zero is None.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.catalogue import ANSWERED, CALLBACK, HANDED_OVER
from analytics.tables import Conversation, Turn, ensure_tables
from core.settings import Settings
from store.engine import get_engine

RECONTACT_WINDOW = dt.timedelta(days=7)
NO_REASON = "(sans motif)"


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Irritant:
    """An intent and what went wrong with it."""

    intent: str
    fallbacks: int = 0
    negative_answers: int = 0
    recontacts: int = 0
    handovers: int = 0

    @property
    def total(self) -> int:
        return self.fallbacks + self.negative_answers + self.recontacts + self.handovers


@dataclass
class Indicators:
    """The indicators of one period (and channel)."""

    start: dt.datetime
    end: dt.datetime
    channel: str | None
    conversations: int = 0
    with_reason: int = 0
    volume_by_hour: dict[int, int] = field(default_factory=dict)
    volume_by_weekday: dict[int, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    top_reasons: list[tuple[str, int]] = field(default_factory=list)
    contained: int = 0
    containment_rate: float | None = None
    recontacts: int = 0
    recontact_rate: float | None = None
    turns: int = 0
    fallbacks: int = 0
    fallback_rate: float | None = None
    handovers: int = 0
    handover_rate: float | None = None
    handovers_by_service: dict[str, int] = field(default_factory=dict)
    handovers_by_intent: dict[str, int] = field(default_factory=dict)
    satisfaction_yes: int = 0
    satisfaction_no: int = 0
    satisfaction_rate: float | None = None
    satisfaction_by_intent: dict[str, float] = field(default_factory=dict)
    irritants: list[Irritant] = field(default_factory=list)
    handling_minutes: float = 4.0
    etp_hours: float = 1607.0
    calls_avoided: int = 0
    hours_saved: float = 0.0
    etp_saved: float = 0.0

    def as_dict(self) -> dict:
        """Plain values (irritants with their total) for CSV/HTML reports and JSON."""
        values = asdict(self)
        values["irritants"] = [{**asdict(i), "total": i.total} for i in self.irritants]
        values["top_reasons"] = [list(pair) for pair in self.top_reasons]
        return values


def _to_utc(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A local (naive) or aware datetime as naive UTC, like the analytics tables."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=zone)
    return aware.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _local(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(zone)


def _followed_by_recontact(conversation: Conversation, others: list[Conversation]) -> bool:
    return any(
        other.id != conversation.id and conversation.started_at < other.started_at < conversation.started_at + RECONTACT_WINDOW
        for other in others
    )


def indicators(
    settings: Settings,
    start: dt.datetime,
    end: dt.datetime,
    channel: str | None = None,
    *,
    handling_minutes: float | None = None,
    etp_hours: float | None = None,
    top: int = 10,
) -> Indicators:
    """The indicators of the conversations started in [start, end) (local time unless aware), of `channel` if given."""
    ensure_tables(settings.db_url)
    zone = ZoneInfo(settings.timezone)
    start_utc, end_utc = _to_utc(start, zone), _to_utc(end, zone)
    result = Indicators(
        start=start,
        end=end,
        channel=channel,
        handling_minutes=settings.analytics_handling_minutes if handling_minutes is None else handling_minutes,
        etp_hours=settings.analytics_etp_hours if etp_hours is None else etp_hours,
    )
    with Session(get_engine(settings.db_url), future=True) as db:
        window = (
            db.execute(
                select(Conversation)
                .where(Conversation.started_at >= start_utc, Conversation.started_at < end_utc + RECONTACT_WINDOW)
                .order_by(Conversation.started_at, Conversation.id)
            )
            .scalars()
            .all()
        )
        selected = [c for c in window if c.started_at < end_utc and (channel is None or c.channel == channel)]
        ids = [c.id for c in selected]
        turns = db.execute(select(Turn).where(Turn.conversation_id.in_(ids))).scalars().all() if ids else []

    by_topic: dict[tuple[str, str], list[Conversation]] = defaultdict(list)
    for conversation in window:
        if conversation.main_intent:
            by_topic[(conversation.person_key, conversation.main_intent)].append(conversation)

    irritants: dict[str, Irritant] = {}

    def irritant(intent: str | None) -> Irritant:
        name = intent or NO_REASON
        return irritants.setdefault(name, Irritant(name))

    result.conversations = len(selected)
    result.volume_by_hour = {hour: 0 for hour in range(24)}
    result.volume_by_weekday = {day: 0 for day in range(7)}
    outcomes: Counter = Counter()
    reasons: Counter = Counter()
    main_intent_of = {}
    for conversation in selected:
        local = _local(conversation.started_at, zone)
        result.volume_by_hour[local.hour] += 1
        result.volume_by_weekday[local.weekday()] += 1
        outcomes[conversation.outcome] += 1
        main_intent_of[conversation.id] = conversation.main_intent
        if conversation.outcome in (HANDED_OVER, CALLBACK):
            result.handovers += 1
            service = conversation.handover_service or NO_REASON
            result.handovers_by_service[service] = result.handovers_by_service.get(service, 0) + 1
            reason = conversation.main_intent or NO_REASON
            result.handovers_by_intent[reason] = result.handovers_by_intent.get(reason, 0) + 1
            irritant(conversation.main_intent).handovers += 1
        if not conversation.main_intent:
            continue
        result.with_reason += 1
        reasons[conversation.main_intent] += 1
        recontacted = _followed_by_recontact(conversation, by_topic[(conversation.person_key, conversation.main_intent)])
        if recontacted:
            result.recontacts += 1
            irritant(conversation.main_intent).recontacts += 1
        elif conversation.outcome == ANSWERED:
            result.contained += 1

    result.outcomes = dict(outcomes)
    result.top_reasons = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:top]
    result.containment_rate = _rate(result.contained, result.with_reason)
    result.recontact_rate = _rate(result.recontacts, result.with_reason)
    result.handover_rate = _rate(result.handovers, result.conversations)

    answers: dict[str, Counter] = defaultdict(Counter)
    for turn in turns:
        result.turns += 1
        if turn.fallback:
            result.fallbacks += 1
            irritant(main_intent_of.get(turn.conversation_id)).fallbacks += 1
        if turn.feedback:
            answers[turn.intent or NO_REASON][turn.feedback] += 1
            if turn.feedback == "non":
                irritant(turn.intent).negative_answers += 1
    result.fallback_rate = _rate(result.fallbacks, result.turns)
    result.satisfaction_yes = sum(c["oui"] for c in answers.values())
    result.satisfaction_no = sum(c["non"] for c in answers.values())
    result.satisfaction_rate = _rate(result.satisfaction_yes, result.satisfaction_yes + result.satisfaction_no)
    result.satisfaction_by_intent = {intent: c["oui"] / (c["oui"] + c["non"]) for intent, c in sorted(answers.items())}
    result.irritants = sorted((i for i in irritants.values() if i.total), key=lambda i: (-i.total, i.intent))

    result.calls_avoided = result.contained
    result.hours_saved = result.calls_avoided * result.handling_minutes / 60
    result.etp_saved = result.hours_saved / result.etp_hours if result.etp_hours else 0.0
    return result
