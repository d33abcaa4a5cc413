"""The patient messages the assistant misunderstood, read from Rasa's SQL tracker store.

Rasa keeps every conversation in the `events` table of its SQL tracker store
(`settings.conversations_db_url`). This module reads it read-only with SQLAlchemy (without
importing Rasa) and flags a patient message when:

- the NLU confidence was below `settings.studio_low_confidence`;
- the fallback fired: the intent was `nlu_fallback`, or the core fallback action ran next;
- the patient answered "non" to "Cette réponse vous a-t-elle aidé ?" (the message that the
  judged answer answered is flagged, not the "non");
- the patient asked for a human (the previous message of the session is flagged if there is
  one worth learning from, else the request itself).

Button clicks (`/intent` payloads) and the answers typed into a form that collects free text
(the callback form: names, phone numbers) are never flagged. Every text is masked.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine, make_url

from core.catalogue import (
    DENY,
    FALLBACK_ACTION,
    FALLBACK_INTENT,
    FEEDBACK_RESPONSE,
    HUMAN_INTENT,
    SESSION_START_ACTION,
    SMALL_TALK_INTENTS,
    channel_label,
)
from core.masking import mask_personal_data
from core.rasa_events import EVENTS, has_events_table
from core.settings import Settings

FEEDBACK_QUESTION = "Cette réponse vous a-t-elle aidé"

LOW_CONFIDENCE = "confiance faible"
FALLBACK = "non compris (repli)"
NEGATIVE_FEEDBACK = "réponse jugée inutile"
HUMAN_REQUEST = "demande à parler à un humain"
REASONS = (LOW_CONFIDENCE, FALLBACK, NEGATIVE_FEEDBACK, HUMAN_REQUEST)


@dataclass
class FlaggedMessage:
    """A patient message to show in the inbox (its text already masked)."""

    key: str
    conversation_id: str
    event_id: int
    text: str
    at: dt.datetime
    channel: str
    intent: str | None
    confidence: float | None
    suggestions: list[tuple[str, float]]
    reasons: list[str] = field(default_factory=list)

    @property
    def channel_label(self) -> str:
        return channel_label(self.channel) or "inconnu"

    def add_reason(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)
            self.reasons.sort(key=REASONS.index)


def message_key(conversation_id: str, event_id: int) -> str:
    """The stable key of a message: its conversation and the id of its event."""
    return f"{conversation_id}:{event_id}"


@dataclass
class _UserTurn:
    """A patient message while its conversation is read."""

    event_id: int
    text: str
    timestamp: float
    channel: str
    intent: str | None
    confidence: float | None
    ranking: list[dict]
    in_free_text_form: bool
    answers_feedback: bool = False

    @property
    def learnable(self) -> bool:
        """Whether the message could become a training example: free text typed outside a free-text form."""
        return bool(self.text.strip()) and not self.text.startswith("/") and not self.in_free_text_form


class _Detector:
    """Reads the events of one conversation in order and collects its flagged messages."""

    def __init__(self, conversation_id: str, threshold: float, free_text_forms: frozenset[str], zone: ZoneInfo):
        self.conversation_id = conversation_id
        self.threshold = threshold
        self.free_text_forms = free_text_forms
        self.zone = zone
        self.flagged: dict[int, FlaggedMessage] = {}
        self._new_session()

    def _new_session(self) -> None:
        self.turns: list[_UserTurn] = []
        self.feedback_for: _UserTurn | None = None
        self.feedback_asked = False
        self.active_loop: str | None = None

    def flag(self, turn: _UserTurn, reason: str) -> None:
        if not turn.learnable:
            return
        message = self.flagged.get(turn.event_id)
        if message is None:
            ranking = [(r.get("name"), float(r.get("confidence") or 0.0)) for r in turn.ranking if r.get("name")]
            message = FlaggedMessage(
                key=message_key(self.conversation_id, turn.event_id),
                conversation_id=self.conversation_id,
                event_id=turn.event_id,
                text=mask_personal_data(turn.text.strip()),
                at=dt.datetime.fromtimestamp(turn.timestamp or 0.0, self.zone).replace(tzinfo=None),
                channel=turn.channel,
                intent=turn.intent,
                confidence=turn.confidence,
                suggestions=[(name, conf) for name, conf in ranking if name != FALLBACK_INTENT][:3],
            )
            self.flagged[turn.event_id] = message
        message.add_reason(reason)

    def _last_learnable(self, before: int | None = None) -> _UserTurn | None:
        turns = self.turns if before is None else self.turns[:before]
        return next((t for t in reversed(turns) if t.learnable and not t.answers_feedback), None)

    def on_action(self, name: str | None) -> None:
        if name == SESSION_START_ACTION:
            self._new_session()
        elif name == FALLBACK_ACTION and self.turns:
            self.flag(self.turns[-1], FALLBACK)

    def on_active_loop(self, data: dict) -> None:
        self.active_loop = data.get("name")

    def on_bot(self, data: dict) -> None:
        metadata = data.get("metadata") or {}
        text = data.get("text") or ""
        if metadata.get("utter_action") == FEEDBACK_RESPONSE or text.startswith(FEEDBACK_QUESTION):
            self.feedback_asked = True
            self.feedback_for = self._last_learnable()

    def on_user(self, event_id: int, timestamp: float, data: dict) -> None:
        parse = data.get("parse_data") or {}
        intent = parse.get("intent") or {}
        confidence = intent.get("confidence")
        turn = _UserTurn(
            event_id=event_id,
            text=data.get("text") or "",
            timestamp=timestamp,
            channel=data.get("input_channel") or "",
            intent=intent.get("name"),
            confidence=float(confidence) if confidence is not None else None,
            ranking=parse.get("intent_ranking") or [],
            in_free_text_form=self.active_loop in self.free_text_forms,
        )
        if self.feedback_asked:
            turn.answers_feedback = True
            if turn.intent == DENY and self.feedback_for is not None:
                self.flag(self.feedback_for, NEGATIVE_FEEDBACK)
            self.feedback_asked = False
            self.feedback_for = None
        self.turns.append(turn)
        if turn.confidence is not None and turn.confidence < self.threshold:
            self.flag(turn, LOW_CONFIDENCE)
        if turn.intent == FALLBACK_INTENT:
            self.flag(turn, FALLBACK)
        if turn.intent == HUMAN_INTENT:
            previous = next(
                # small talk says nothing about what the patient wanted: never the reason of a human request
                (t for t in reversed(self.turns[:-1]) if t.learnable and not t.answers_feedback and t.intent not in SMALL_TALK_INTENTS),
                None,
            )
            self.flag(previous or turn, HUMAN_REQUEST)


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    return create_engine(url, future=True)


def _store_exists(url: str) -> bool:
    """False for a SQLite store whose file does not exist yet (not created by reading it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        return bool(database) and database != ":memory:" and Path(database).exists()
    return True


def free_text_forms(bot_dir: Path) -> frozenset[str]:
    """The forms of the domain that fill a slot with whatever the patient types (`from_text`)."""
    return _free_text_forms(str(bot_dir))


@lru_cache(maxsize=8)
def _free_text_forms(bot_dir: str) -> frozenset[str]:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    forms: dict = {}
    slots: dict = {}
    domain = Path(bot_dir) / "domain"
    for path in sorted(domain.glob("*.yml")) if domain.is_dir() else []:
        content = yaml.load(path.read_text(encoding="utf-8")) or {}
        forms.update(content.get("forms") or {})
        slots.update(content.get("slots") or {})
    free_text_slots = {
        name for name, slot in slots.items() if any(m.get("type") == "from_text" for m in (slot or {}).get("mappings") or [])
    }
    return frozenset(name for name, form in forms.items() if set((form or {}).get("required_slots") or []) & free_text_slots)


def _rows(engine: Engine) -> Iterator:
    query = (
        select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.action_name, EVENTS.c.data)
        .where(EVENTS.c.type_name.in_(("user", "bot", "action", "active_loop")))
        .order_by(EVENTS.c.sender_id, EVENTS.c.id)
    )
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=2000).execute(query)
        yield from result


def detect(rows: Iterable, threshold: float, free_text_forms: frozenset[str], zone: ZoneInfo) -> list[FlaggedMessage]:
    """The flagged messages among event rows (id, sender_id, type_name, timestamp, action_name, data) sorted by conversation."""
    flagged: list[FlaggedMessage] = []
    detector: _Detector | None = None
    for event_id, sender_id, type_name, timestamp, action_name, data in rows:
        if detector is None or detector.conversation_id != sender_id:
            if detector is not None:
                flagged.extend(detector.flagged.values())
            detector = _Detector(sender_id, threshold, free_text_forms, zone)
        if type_name == "action":
            detector.on_action(action_name)
        elif type_name == "user":
            detector.on_user(event_id, timestamp, json.loads(data or "{}"))
        elif type_name == "bot":
            # Most bot events are not the feedback question: skip parsing them.
            if data and (FEEDBACK_RESPONSE in data or "a-t-elle aid" in data):
                detector.on_bot(json.loads(data))
        elif type_name == "active_loop":
            detector.on_active_loop(json.loads(data or "{}"))
    if detector is not None:
        flagged.extend(detector.flagged.values())
    flagged.sort(key=lambda m: (m.at, m.event_id), reverse=True)
    return flagged


_cache_lock = threading.Lock()
_cache: dict[tuple, list[FlaggedMessage]] = {}


def flagged_messages(settings: Settings) -> list[FlaggedMessage]:
    """Every flagged patient message of the tracker store, newest first (cached until new events arrive)."""
    url = settings.conversations_db_url
    if not _store_exists(url):
        return []
    engine = _engine(url)
    if not has_events_table(engine):
        return []
    with engine.connect() as connection:
        last_id, count = connection.execute(select(func.max(EVENTS.c.id), func.count())).one()
    forms = free_text_forms(settings.bot_dir)
    cache_key = (url, last_id, count, settings.studio_low_confidence, forms, settings.timezone)
    with _cache_lock:
        if cache_key in _cache:
            return list(_cache[cache_key])
    messages = detect(_rows(engine), settings.studio_low_confidence, forms, ZoneInfo(settings.timezone))
    with _cache_lock:
        _cache.clear()
        _cache[cache_key] = messages
    return list(messages)
