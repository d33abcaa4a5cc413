"""Rasa's SQL conversation store, with a local journal: a message answered is never lost when the database is away.

Rasa wraps its tracker store in `FailSafeTrackerStore`, which keeps a conversation it could not save in memory
and goes on: the patient gets the answer, and the conversation store never gets the message (a PostgreSQL
stopped for 20 s lost every message of those 20 s, and the tracker's next reading from the database forgot
them). `JournaledSQLTrackerStore` is Rasa's `SQLTrackerStore` (same tables, same settings), with one change:
what it cannot write to the database goes to a journal, a SQLite file on the local disk (`journal`:
VAR_DIR/conversation-journal.db, set by `accueil.rasa_endpoints`), and is written to the database, in order,
as soon as the database answers again:

- `save`: the events the database does not hold yet are inserted in one transaction; if that fails (server
  away, connection reset, SQLite locked), the conversation's whole current session goes to the journal, with
  the number of its first events the database already holds (`base`). While a conversation is in the journal,
  its saves go there, so that the database never gets its events out of order.
- `retrieve`: a conversation in the journal is read from the journal (the patient goes on where he was, also
  while the database is away); the journal is first written to the database if it answers.
- the journal is emptied into the database at every successful save (of any conversation) and when Rasa starts;
  a conversation is removed from the journal only once its events are committed in the database.

The number of events the database holds is kept on each tracker this store hands out (`retrieve`, `init_tracker`),
so a save never needs to read the database back (Rasa's `save` counts the stored events, and its event broker
reads the whole tracker again). A tracker that did not come from this store is counted as Rasa does.

The conversations handled in the last `RECENT_SECONDS` (at most `RECENT_CONVERSATIONS`) are also kept in memory,
compressed, so that a conversation goes on while the database is away; older ones are dropped, so the memory
this takes follows the number of patients talking now, not the number of conversations since the start.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
import zlib
from collections import OrderedDict
from contextlib import closing
from pathlib import Path
from typing import Any, Optional, Text

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)

# Attributes of the trackers this store hands out: how many of their events the database holds (None: unknown),
# and how many the event broker has had.
STORED = "_accueil_stored_events"
PUBLISHED = "_accueil_published_events"
RECENT_CONVERSATIONS = 500  # at most this many conversations kept in memory (a few kB each, compressed)…
RECENT_SECONDS = 1800.0  # …and only those that had a message in the last 30 minutes
JOURNAL_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    sender_id TEXT PRIMARY KEY,
    base INTEGER,            -- events of `events` the database already holds (NULL: count them at flush)
    events TEXT NOT NULL,    -- the conversation's current session, as Rasa's event dicts (JSON list)
    saved_at REAL NOT NULL
)
"""


class Journal:
    """The local file of the conversations the database could not take yet (sqlite3, one short transaction a call).

    One Rasa process owns it: the names of the conversations it holds are also kept in memory, so that the usual
    case, an empty journal, costs no file access on a message's path."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))  # patients' words: this user only
        with closing(self._connect()) as db, db:
            db.execute(JOURNAL_SCHEMA)
            self._held = {row[0] for row in db.execute("SELECT sender_id FROM pending")}

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5)

    def put(self, sender_id: str, base: Optional[int], events: list[dict]) -> None:
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT INTO pending (sender_id, base, events, saved_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(sender_id) DO UPDATE SET events = excluded.events, saved_at = excluded.saved_at",
                (sender_id, base, json.dumps(events), time.time()),
            )
        self._held.add(sender_id)

    def get(self, sender_id: str) -> Optional[tuple[Optional[int], list[dict]]]:
        if sender_id not in self._held:
            return None
        with closing(self._connect()) as db:
            row = db.execute("SELECT base, events FROM pending WHERE sender_id = ?", (sender_id,)).fetchone()
        return None if row is None else (row[0], json.loads(row[1]))

    def senders(self) -> list[str]:
        if not self._held:
            return []
        with closing(self._connect()) as db:
            return [row[0] for row in db.execute("SELECT sender_id FROM pending ORDER BY saved_at")]

    def remove(self, sender_id: str, events_count: int) -> None:
        """Forgets a conversation written to the database, unless it got more events meanwhile."""
        with closing(self._connect()) as db, db:
            deleted = db.execute(
                "DELETE FROM pending WHERE sender_id = ? AND json_array_length(events) = ?", (sender_id, events_count)
            ).rowcount
        if deleted:
            self._held.discard(sender_id)


class JournaledSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose failed writes wait in a local journal (see the module's docstring)."""

    def __init__(self, *args: Any, journal: Optional[Text] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.journal = Journal(Path(journal)) if journal else None
        # Conversations that `retrieve` did not find (or could not read): the tracker Rasa then makes for them
        # (through its `FailSafeTrackerStore`, not this store's `init_tracker`) has no event in the database.
        self._new: OrderedDict[str, None] = OrderedDict()
        # The conversations handled lately, read back from here while the database is away:
        # sender_id → (last touched, events the database holds, the events as compressed JSON).
        self._recent: OrderedDict[str, tuple[float, Optional[int], bytes]] = OrderedDict()
        if self.journal is not None:
            self._flush_all()

    # --- what Rasa calls -------------------------------------------------------------------------------

    def init_tracker(self, sender_id: Text) -> DialogueStateTracker:
        tracker = super().init_tracker(sender_id)
        setattr(tracker, STORED, 0)
        setattr(tracker, PUBLISHED, 0)
        return tracker

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        if self.journal is not None:
            pending = self.journal.get(sender_id)
            if pending is not None:
                base, events = pending
                stored = len(events) if self._flush(sender_id, base, events) else base
                return self._tracker(sender_id, events, stored)
        try:
            tracker = await super().retrieve(sender_id)
        except Exception:
            recent = self._recent.get(sender_id)
            if recent is None:
                self._remember(self._new, sender_id, None)
                raise
            _, stored, packed = recent
            return self._tracker(sender_id, json.loads(zlib.decompress(packed)), stored)
        if tracker is None:
            self._remember(self._new, sender_id, None)
        else:
            setattr(tracker, STORED, len(tracker.events))
            setattr(tracker, PUBLISHED, len(tracker.events))
            self._keep(tracker.sender_id, [event.as_dict() for event in tracker.events], len(tracker.events))
        return tracker

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        if self.journal is not None:
            pending = self.journal.get(conversation_id)
            if pending is not None and not self._flush(conversation_id, *pending):
                raise ConnectionError("the conversation store is away; the conversation waits in the journal")
        return await super().retrieve_full_tracker(conversation_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        if not hasattr(tracker, STORED) and tracker.sender_id in self._new:
            del self._new[tracker.sender_id]
            setattr(tracker, STORED, 0)
            setattr(tracker, PUBLISHED, 0)
        await self._publish(tracker)
        events = [event.as_dict() for event in tracker.events]
        stored = getattr(tracker, STORED, None)
        pending = self.journal.get(tracker.sender_id) if self.journal is not None else None
        if pending is not None:
            base = pending[0]
            self.journal.put(tracker.sender_id, base, events)
            if self._flush(tracker.sender_id, base, events):
                setattr(tracker, STORED, len(events))
        else:
            try:
                self._insert(tracker.sender_id, events, stored)
            except Exception as error:
                if self.journal is None:
                    raise
                self.journal.put(tracker.sender_id, stored, events)
                logger.warning(
                    "Conversation store unreachable (%s): the conversation is kept in the local journal until it answers",
                    type(error).__name__,
                )
            else:
                setattr(tracker, STORED, len(events))
                self._flush_all()
        self._keep(tracker.sender_id, events, getattr(tracker, STORED, None))

    def _keep(self, sender_id: str, events: list[dict], stored: Optional[int]) -> None:
        """Keeps a conversation in memory, and forgets those silent for longer than RECENT_SECONDS."""
        now = time.monotonic()
        self._remember(self._recent, sender_id, (now, stored, zlib.compress(json.dumps(events).encode(), 1)))
        while self._recent:
            oldest = next(iter(self._recent.values()))
            if now - oldest[0] <= RECENT_SECONDS:
                break
            self._recent.popitem(last=False)

    @staticmethod
    def _remember(memory: OrderedDict, sender_id: str, value: Any) -> None:
        memory[sender_id] = value
        memory.move_to_end(sender_id)
        while len(memory) > RECENT_CONVERSATIONS:
            memory.popitem(last=False)

    # --- writing ---------------------------------------------------------------------------------------

    def _insert(self, sender_id: str, events: list[dict], stored: Optional[int]) -> None:
        """Inserts the events the database does not hold, in one transaction (Rasa's row format)."""
        with self.session_scope() as session:
            if stored is None:  # a tracker this store did not hand out: counted as Rasa's own `save` counts
                stored = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
            for data in events[stored:]:
                session.add(
                    self.SQLEvent(
                        sender_id=sender_id,
                        type_name=data.get("event"),
                        timestamp=data.get("timestamp"),
                        intent_name=(data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()

    def _flush(self, sender_id: str, base: Optional[int], events: list[dict]) -> bool:
        """Writes one journalled conversation to the database; whether it is there now."""
        try:
            self._insert(sender_id, events, base)
        except Exception as error:
            logger.debug("Conversation store still unreachable (%s)", type(error).__name__)
            return False
        self.journal.remove(sender_id, len(events))
        logger.info("A conversation kept in the local journal is now in the conversation store")
        return True

    def _flush_all(self) -> None:
        for sender_id in self.journal.senders():
            pending = self.journal.get(sender_id)
            if pending is not None and not self._flush(sender_id, *pending):
                return

    def _tracker(self, sender_id: str, events: list[dict], stored: Optional[int]) -> DialogueStateTracker:
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        setattr(tracker, STORED, stored)
        setattr(tracker, PUBLISHED, len(events))
        return tracker

    async def _publish(self, tracker: DialogueStateTracker) -> None:
        """Gives the event broker each event once, without reading the database back (Rasa's `stream_events` does)."""
        if self.event_broker is None:
            return
        published = getattr(tracker, PUBLISHED, None)
        if published is None:  # a tracker this store did not hand out: Rasa's own way
            try:
                await self.stream_events(tracker)
            except Exception as error:
                logger.warning("Events not given to the event broker (%s)", type(error).__name__)
        else:
            for event in list(tracker.events)[published:]:
                body = {"sender_id": tracker.sender_id}
                body.update(event.as_dict())
                self.event_broker.publish(body)
        setattr(tracker, PUBLISHED, len(tracker.events))
