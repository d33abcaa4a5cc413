"""The analytics projection: Rasa's tracker store read incrementally into `analytics_conversations` and `analytics_turns`.

`project(settings)` reads the `events` table of the tracker store (`settings.conversations_db_url`)
past the last event id it projected (kept in `analytics_state`). For every conversation that got
new events, its last projected session is rebuilt from its first event, so a session that goes
on between two projections is updated, never counted twice; calling it again changes nothing.

Sessions: `action_session_start` (or a `session_started` not preceded by it) starts a new
conversation row. A session without any patient message is not a conversation and is skipped.

Per session:
- channel: the input channel of its first patient message (`rest`/`socketio` = web, `voice`);
- first intent: the first patient message's; main intent (the call reason): the first
  *substantive* one, i.e. not small talk, a yes/no, a request for a human or the fallback;
- a turn is a fallback when its intent is `nlu_fallback` or `action_fallback_suggestions` ran for it;
- satisfaction: the last "oui" (`affirm`) or "non" (`deny`) answered right after the feedback
  question (`utter_ask_feedback`); the turn judged is the last substantive one before the question;
- caller: the phone number of the call (`metadata.caller` of the voice channel), else the one
  given in a callback request (slot `callback_phone`), stored as a keyed hash only; the person
  is that caller when known, else the conversation (the widget keeps its sender id);
- outcome, the first that applies:
  1. `emergency`: the patient said something recognised as the emergency intent;
  2. `handed_over`: a transfer was made (`action_transfer` ran, or the bot sent a `handover` payload);
  3. `callback`: a callback request was stored (`action_save_callback` ran);
  4. `answered`: at least one substantive message was understood (no fallback for it);
  5. `abandoned`: anything else (only small talk or misunderstood messages, an unfinished handover).

Concurrent projections (each dashboard view, `accueil report`) are serialised by the write lock
of the state row. The watermark is an event id, and on PostgreSQL a conversation's events may be
committed after events of greater ids (ids are taken at insert time, two conversations save at
once). So the watermark only passes events older than `SETTLE_SECONDS` (and stops before any
younger one): the conversations of the last minute are rebuilt at each projection, and an event
committed late is still found.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable

from sqlalchemy import create_engine, delete, func, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analytics.tables import Conversation, ProjectionState, Turn, ensure_tables
from core.catalogue import (
    ABANDONED,
    AFFIRM,
    ANSWERED,
    CALLBACK,
    CALLBACK_ACTION,
    CHANNELS,
    DENY,
    EMERGENCY,
    EMERGENCY_INTENT,
    FALLBACK_ACTION,
    FALLBACK_INTENT,
    FEEDBACK_RESPONSE,
    HANDED_OVER,
    LISTEN_ACTION,
    NOT_A_CALL_REASON,
    SESSION_START_ACTION,
    TRANSFER_ACTION,
    VOICE_CHANNEL,
)
from core.pseudonyms import phone_pseudonym, sender_pseudonym
from core.rasa_events import EVENTS, has_events_table
from core.settings import Settings
from store.engine import get_engine

FEEDBACK_ANSWERS = {AFFIRM: "oui", DENY: "non"}
LAST_EVENT = "last_event_id"  # the watermark: every event up to it is projected for good
SEEN_EVENT = "seen_event_id"  # the greatest event id projected (those past the watermark may be projected again)
# A tracker save commits within this many seconds of its events' timestamps (one message's handling).
SETTLE_SECONDS = 60.0


@dataclass
class ProjectionReport:
    """What one projection did: new tracker events read, new conversation sessions, sessions that went on (rewritten)."""

    events: int = 0
    conversations: int = 0
    updated: int = 0


def projected_up_to(settings: Settings) -> int:
    """The id of the last tracker store event the analytics tables hold (0 before the first projection)."""
    ensure_tables(settings.db_url)
    with Session(get_engine(settings.db_url), future=True) as db:
        state = db.get(ProjectionState, SEEN_EVENT)
        return state.value if state is not None else 0


@lru_cache(maxsize=8)
def tracker_engine(url: str) -> Engine:
    """A read-only use engine on the tracker store (one per URL and process)."""
    if make_url(url).get_backend_name() == "sqlite":
        return create_engine(url, future=True, connect_args={"check_same_thread": False})
    return create_engine(url, future=True, pool_pre_ping=True)


def is_substantive(intent: str | None) -> bool:
    """Whether an intent is a call reason."""
    return bool(intent) and intent not in NOT_A_CALL_REASON


def _utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp or 0.0, dt.timezone.utc).replace(tzinfo=None)


@dataclass
class _Turn:
    event_id: int
    timestamp: float
    intent: str | None
    confidence: float | None
    fallback: bool
    responses: list[str] = field(default_factory=list)
    feedback: str | None = None


@dataclass
class _Session:
    """One conversation session while its events are read."""

    first_event_id: int
    first_timestamp: float
    last_event_id: int = 0
    last_timestamp: float = 0.0
    channel: str | None = None
    caller: str | None = None
    callback_phone: str | None = None
    turns: list[_Turn] = field(default_factory=list)
    feedback_asked: bool = False
    handed_over: bool = False
    callback: bool = False
    service: str | None = None
    satisfaction: str | None = None
    events: list[Any] = field(default_factory=list)

    def read(self, event_id: int, type_name: str, timestamp: float, action_name: str | None, data: dict) -> None:
        self.last_event_id, self.last_timestamp = event_id, timestamp or self.last_timestamp
        if type_name == "user":
            self._user(event_id, timestamp, data)
        elif type_name == "action":
            name = action_name or data.get("name")
            if name == FALLBACK_ACTION and self.turns:
                self.turns[-1].fallback = True
            elif name == TRANSFER_ACTION:
                self.handed_over = True
            elif name == CALLBACK_ACTION:
                self.callback = True
            if name and name not in (LISTEN_ACTION, SESSION_START_ACTION) and self.turns:
                self.turns[-1].responses.append(name)
        elif type_name == "bot":
            response = (data.get("metadata") or {}).get("utter_action")
            if response:
                self.feedback_asked = self.feedback_asked or response == FEEDBACK_RESPONSE
                if self.turns:
                    self.turns[-1].responses.append(response)
            handover = ((data.get("data") or {}).get("custom") or {}).get("handover")
            if isinstance(handover, dict):
                self.handed_over = True
                self.service = handover.get("service") or self.service
        elif type_name == "slot":
            if data.get("name") == "handover_service" and data.get("value"):
                self.service = data["value"]
            elif data.get("name") == "callback_phone" and data.get("value"):
                self.callback_phone = str(data["value"])

    def _user(self, event_id: int, timestamp: float, data: dict) -> None:
        parse = data.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name")
        confidence = (parse.get("intent") or {}).get("confidence")
        if self.channel is None:
            channel = data.get("input_channel") or "inconnu"
            self.channel = CHANNELS.get(channel, channel)
        # Only the voice channel's caller is the network's word (the voice gateway's SIP identity); any other channel's
        # metadata comes from the client and must not plant a caller.
        caller = (data.get("metadata") or {}).get("caller") if data.get("input_channel") == VOICE_CHANNEL else None
        if caller and not self.caller:
            self.caller = str(caller)
        if self.feedback_asked and intent in FEEDBACK_ANSWERS:
            answer = FEEDBACK_ANSWERS[intent]
            self.satisfaction = answer
            judged = next((t for t in reversed(self.turns) if is_substantive(t.intent)), None)
            if judged is not None:
                judged.feedback = answer
        self.feedback_asked = False
        self.turns.append(
            _Turn(event_id, timestamp, intent, float(confidence) if confidence is not None else None, intent == FALLBACK_INTENT)
        )

    @property
    def outcome(self) -> str:
        if any(t.intent == EMERGENCY_INTENT for t in self.turns):
            return EMERGENCY
        if self.handed_over:
            return HANDED_OVER
        if self.callback:
            return CALLBACK
        if any(is_substantive(t.intent) and not t.fallback for t in self.turns):
            return ANSWERED
        return ABANDONED


def split_sessions(rows: Iterable) -> list[_Session]:
    """The sessions of one conversation's events (rows of `EVENTS`, in id order)."""
    sessions: list[_Session] = []
    current: _Session | None = None
    previous_action: str | None = None
    for row in rows:
        starts = (row.type_name == "action" and row.action_name == SESSION_START_ACTION) or (
            row.type_name == "session_started" and previous_action != SESSION_START_ACTION
        )
        if current is None or (starts and current.last_event_id):
            current = _Session(first_event_id=row.id, first_timestamp=row.timestamp or 0.0)
            sessions.append(current)
        try:
            data = json.loads(row.data or "{}")
        except ValueError:
            data = {}
        current.read(row.id, row.type_name, row.timestamp, row.action_name, data if isinstance(data, dict) else {})
        previous_action = row.action_name if row.type_name == "action" else None
    return sessions


def _rows(settings: Settings, session: _Session, conversation_key: str) -> tuple[Conversation, list[Turn]]:
    caller_key = phone_pseudonym(settings, session.caller) or phone_pseudonym(settings, session.callback_phone)
    intents = list(dict.fromkeys(t.intent for t in session.turns if t.intent))
    confidences = [t.confidence for t in session.turns if t.confidence is not None]
    conversation = Conversation(
        conversation_key=conversation_key,
        person_key=caller_key or conversation_key,
        caller_key=caller_key,
        first_event_id=session.first_event_id,
        last_event_id=session.last_event_id,
        channel=session.channel or "inconnu",
        started_at=_utc(session.first_timestamp),
        ended_at=_utc(session.last_timestamp),
        duration_seconds=max(0.0, session.last_timestamp - session.first_timestamp),
        turns=len(session.turns),
        first_intent=session.turns[0].intent,
        main_intent=next((t.intent for t in session.turns if is_substantive(t.intent)), None),
        intents=json.dumps(intents),
        min_confidence=min(confidences) if confidences else None,
        outcome=session.outcome,
        handover_service=session.service if session.outcome in (HANDED_OVER, CALLBACK) else None,
        satisfaction=session.satisfaction,
    )
    turns = [
        Turn(
            conversation_key=conversation_key,
            event_id=t.event_id,
            at=_utc(t.timestamp),
            intent=t.intent,
            confidence=t.confidence,
            fallback=t.fallback,
            responses=json.dumps(t.responses),
            feedback=t.feedback,
        )
        for t in session.turns
    ]
    return conversation, turns


def _ensure_state(engine: Engine) -> None:
    """The state row exists (the first projection starts at event 0)."""
    with Session(engine, future=True) as db:
        try:
            with db.begin():
                for name in (LAST_EVENT, SEEN_EVENT):
                    if db.get(ProjectionState, name) is None:
                        db.add(ProjectionState(name=name, value=0))
        except IntegrityError:  # another projection created it meanwhile
            pass


def project(settings: Settings) -> ProjectionReport:
    """Brings the analytics tables up to date with the tracker store; idempotent, safe to call at any time."""
    ensure_tables(settings.db_url)
    report = ProjectionReport()
    source = tracker_engine(settings.conversations_db_url)
    if not has_events_table(source):
        return report
    engine = get_engine(settings.db_url)
    _ensure_state(engine)
    with Session(engine, future=True) as db, db.begin(), source.connect() as tracker:
        # Taking the state row's write lock first serialises concurrent projections (SQLite and PostgreSQL).
        db.execute(update(ProjectionState).where(ProjectionState.name == LAST_EVENT).values(value=ProjectionState.value))
        state = db.get(ProjectionState, LAST_EVENT, populate_existing=True)
        last = state.value
        top = tracker.execute(select(func.max(EVENTS.c.id))).scalar() or 0
        if top <= last:
            return report
        # Events still being committed are invisible, younger than SETTLE_SECONDS, and of greater ids than every
        # settled event: the watermark stays at the greatest settled id, and below the first visible young event.
        young = EVENTS.c.timestamp >= time.time() - SETTLE_SECONDS
        window = (EVENTS.c.id > last, EVENTS.c.id <= top)
        settled = tracker.execute(select(func.max(EVENTS.c.id)).where(*window, ~young)).scalar() or last
        first_young = tracker.execute(select(func.min(EVENTS.c.id)).where(*window, young)).scalar()
        if first_young is not None:
            settled = min(settled, first_young - 1)
        report.events = tracker.execute(
            select(func.count()).select_from(EVENTS).where(EVENTS.c.id > last, EVENTS.c.id <= top)
        ).scalar()
        senders = tracker.execute(select(EVENTS.c.sender_id).where(EVENTS.c.id > last, EVENTS.c.id <= top).distinct()).scalars()
        for sender_id in list(senders):
            key = sender_pseudonym(settings, sender_id)
            resume = (
                db.execute(select(func.max(Conversation.first_event_id)).where(Conversation.conversation_key == key)).scalar()
                or 0
            )
            rewritten = set(
                db.execute(
                    select(Conversation.first_event_id).where(
                        Conversation.conversation_key == key, Conversation.first_event_id >= resume
                    )
                ).scalars()
            )
            stale = select(Conversation.id).where(Conversation.conversation_key == key, Conversation.first_event_id >= resume)
            db.execute(delete(Turn).where(Turn.conversation_id.in_(stale)).execution_options(synchronize_session=False))
            db.execute(
                delete(Conversation)
                .where(Conversation.conversation_key == key, Conversation.first_event_id >= resume)
                .execution_options(synchronize_session=False)
            )
            rows = tracker.execute(
                select(EVENTS)
                .where(EVENTS.c.sender_id == sender_id, EVENTS.c.id >= resume, EVENTS.c.id <= top)
                .order_by(EVENTS.c.id)
            )
            for session in split_sessions(rows):
                if not session.turns:
                    continue
                conversation, turns = _rows(settings, session, key)
                db.add(conversation)
                db.flush()
                for turn in turns:
                    turn.conversation_id = conversation.id
                db.add_all(turns)
                if session.first_event_id in rewritten:
                    report.updated += 1
                else:
                    report.conversations += 1
        # Every event up to `top` is projected, but the next projection reads the unsettled ones again.
        state.value = max(last, settled)
        db.get(ProjectionState, SEEN_EVENT).value = top
    return report
