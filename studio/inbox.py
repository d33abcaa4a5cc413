"""The inbox of misunderstood messages: the flagged messages nobody has decided on yet, grouped, and the decisions.

A decision (`studio_inbox_decisions`) takes a message out of the inbox for good:
- assigned: the masked text became an example of an existing intent;
- new_intent: it became the first example of an intent created for it;
- out_of_scope: it became an example of `out_of_scope`;
- ignored: nothing was written (noise, a test, a message that teaches nothing).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import select

from core.purging import PurgeCount, database_exists, delete_older
from core.settings import Settings
from store import tables
from store.engine import get_engine
from store.tables import Base
from studio.conversations import FlaggedMessage, flagged_messages
from studio.db import session_scope
from studio.grouping import MessageGroup, group_messages
from studio.nlu_files import NluError, add_examples, create_intent, intent_names

OUT_OF_SCOPE_INTENT = "out_of_scope"
KINDS = {"assigned": "attribué", "new_intent": "nouvelle intention", "out_of_scope": "hors sujet", "ignored": "ignoré"}


class InboxDecision(Base):
    __table__ = tables.studio_inbox_decisions


def decided_keys(settings: Settings) -> set[str]:
    with session_scope(settings) as session:
        return set(session.scalars(select(InboxDecision.key)))


def pending_messages(settings: Settings) -> list[FlaggedMessage]:
    """The flagged messages without a decision, newest first."""
    decided = decided_keys(settings)
    return [m for m in flagged_messages(settings) if m.key not in decided]


def inbox_groups(settings: Settings) -> list[MessageGroup]:
    return group_messages(pending_messages(settings))


def find_pending(settings: Settings, keys: Sequence[str]) -> list[FlaggedMessage]:
    """The pending messages among `keys`, in the inbox's order."""
    wanted = set(keys)
    return [m for m in pending_messages(settings) if m.key in wanted]


@dataclass(frozen=True)
class Decision:
    """What a decision did, for the page and the audit log."""

    kind: str
    keys: tuple[str, ...]
    intent: str | None
    file: str | None
    added: tuple[str, ...] = ()
    already_there: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


_decide_lock = threading.Lock()


def _record(settings: Settings, messages: Sequence[FlaggedMessage], kind: str, intent: str | None, file: str | None, username: str) -> None:
    now = dt.datetime.utcnow().replace(microsecond=0)
    with session_scope(settings) as session:
        taken = set(session.scalars(select(InboxDecision.key).where(InboxDecision.key.in_([m.key for m in messages]))))
        for message in messages:
            if message.key not in taken:
                session.add(InboxDecision(key=message.key, kind=kind, intent=intent, text=message.text, file=file, username=username, at=now))


def decide(
    settings: Settings,
    keys: Sequence[str],
    kind: str,
    username: str,
    intent: str | None = None,
    confirm: bool = False,
    new_intent: dict | None = None,
) -> Decision:
    """Applies a decision to the pending messages `keys`: writes their texts where `kind` says, then records it.

    `new_intent` (kind new_intent): name, file, examples (the texts to write, edited by the editor) and answer.
    Raises NluError (French) when nothing could be done; nothing is recorded then.
    """
    if kind not in KINDS:
        raise NluError("Décision inconnue.")
    with _decide_lock:
        messages = find_pending(settings, keys)
        if not messages:
            raise NluError("Ces messages ont déjà été traités par quelqu'un d'autre, ou n'existent plus.")
        texts = [m.text for m in messages]
        taken = tuple(m.key for m in messages)
        if kind == "ignored":
            _record(settings, messages, kind, None, None, username)
            return Decision(kind, taken, None, None)
        if kind == "new_intent":
            spec = new_intent or {}
            chosen = spec["examples"] if "examples" in spec else texts  # the editor may have reworded or dropped some
            created = create_intent(
                settings, spec.get("name", ""), spec.get("file", ""), chosen, spec.get("answer", ""), confirm=confirm, author=username
            )
            _record(settings, messages, kind, created.name, f"nlu_data/{created.nlu_file}", username)
            return Decision(kind, taken, created.name, f"nlu_data/{created.nlu_file}", created.examples, (), created.files)
        target = OUT_OF_SCOPE_INTENT if kind == "out_of_scope" else intent
        if not target or target not in intent_names(settings):
            raise NluError("Choisissez l'intention à laquelle rattacher ce message.")
        added = add_examples(settings, target, texts, confirm=confirm)
        file = f"nlu_data/{added.file}" if added.file else None
        _record(settings, messages, kind, target, file, username)
        return Decision(kind, taken, target, file, added.added, added.already_there)


def purge_decisions(settings: Settings, cutoff: dt.datetime, dry_run: bool) -> list[PurgeCount]:
    """Retention (`accueil purge`): the inbox decisions taken before the cutoff (each keeps a patient's message)."""
    if not database_exists(settings.db_url):
        return []
    with get_engine(settings.db_url).begin() as connection:
        return delete_older(connection, [InboxDecision.__table__.c.at], cutoff, dry_run)
