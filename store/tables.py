"""Every table Accueil writes, on one MetaData, grouped by the package that owns its rows.

The owners map their classes onto these tables (`__table__ = tables.place` on `Base`), with the behaviour
that belongs to them; a change of schema here goes with a revision in `store/migrations/versions`.
Rasa's own `events` table is described in `core/rasa_events.py`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base

metadata = MetaData()

# The one declarative base: the owners' classes take their table from this module.
Base = declarative_base(metadata=metadata)


# --- The knowledge base (kb_sync writes it, the actions and the studio read it) ---------------------------------

# The hospital itself: one row.
organisation = Table(
    "organisation",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("short_name", String(80), nullable=False),
    Column("address", String(300), nullable=False),
    Column("switchboard_phone", String(40), nullable=False),
    Column("switchboard_hours", String(120), nullable=False),
    Column("patient_portal", String(120), nullable=False),
)

# A place patients go to, with opening hours (reception, laboratory…).
place = Table(
    "place",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(80), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("synonyms", JSON, nullable=False, default=list),
    Column("location", String(200)),
    Column("phone", String(40)),
    Column("always_open", Boolean, nullable=False, default=False),
    Column("note", Text),
)

# One opening period of a place on one weekday (0 = Monday).
opening_hours = Table(
    "opening_hours",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("place_id", ForeignKey("place.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("weekday", SmallInteger, nullable=False),
    Column("opens", Time, nullable=False),
    Column("closes", Time, nullable=False),
)

# A ward patients stay in, with its visiting rules.
ward = Table(
    "ward",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(80), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("synonyms", JSON, nullable=False, default=list),
    Column("is_default", Boolean, nullable=False, default=False),
    Column("note", Text),
)

# Who may visit a ward, when, and with which limits.
visiting_rule = Table(
    "visiting_rule",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ward_id", ForeignKey("ward.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("position", SmallInteger, nullable=False, default=0),
    Column("audience", String(120), nullable=False),
    Column("all_day", Boolean, nullable=False, default=False),
    Column("opens", Time),
    Column("closes", Time),
    Column("max_visitors", SmallInteger),
    Column("min_age", SmallInteger),
)

# A French text answer written by the editors (pre-op instructions, documents…). Its full-text index is
# outside the metadata: `article_search` (FTS5) on SQLite, the `search_vector` column on PostgreSQL.
article = Table(
    "article",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(120), nullable=False),
    Column("topic", String(60), nullable=False, index=True),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("keywords", JSON, nullable=False, default=list),
    Column("related", JSON, nullable=False, default=list),
    Column("source", String(300), nullable=False),
    Column("updated_at", Date, nullable=False),
    Column("show_updated_at", Boolean, nullable=False, default=False),
    Column("synced_at", DateTime, nullable=False, default=dt.datetime.utcnow),
    UniqueConstraint("slug"),
)

# One sync that changed something: what came in, from where, and a snapshot to roll back to.
kb_version = Table(
    "kb_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime, nullable=False, default=dt.datetime.utcnow),
    Column("checksum", String(64), nullable=False, index=True),
    Column("source", String(500), nullable=False),
    Column("counts", JSON, nullable=False),
    Column("changes", JSON, nullable=False),
    Column("snapshot", JSON, nullable=False),
)


# --- What the conversations leave behind for the staff (the actions write it) -----------------------------------

# A patient's "yes"/"no" to "Cette réponse vous a-t-elle aidé ?", or a free remark on the hospital.
answer_feedback = Table(
    "answer_feedback",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("channel", String(50)),
    Column("intent", String(100)),
    Column("helpful", Boolean),  # None for a free remark
    Column("comment", Text),
    Column("created_at", DateTime, nullable=False),
)

# A transfer to a service, or a callback request taken outside its office hours.
handover_requests = Table(
    "handover_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("channel", String(50)),
    Column("kind", String(20), nullable=False),  # "transfer" or "callback"
    Column("service", String(100), nullable=False),
    Column("summary", Text, nullable=False),
    Column("name", String(200)),
    Column("phone", String(20)),
    Column("reason", Text),
    Column("callback_at", DateTime),  # the hospital's local time
    Column("created_at", DateTime, nullable=False),  # UTC
)

# One contact of an identified person (a caller's number, a callback number): its call reasons and how it
# ended. Identifiers are keyed hashes only (`core.pseudonyms`); reasons are intent names, never the patient's words.
contact_history = Table(
    "contact_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_key", String(64), nullable=False, index=True),  # pseudonym of the phone number
    Column("conversation_key", String(64), nullable=False),  # pseudonym of the sender id
    Column("session_start", DateTime, nullable=False),  # UTC start of the Rasa session: one contact per session
    Column("channel", String(50)),
    Column("reasons", Text, nullable=False, default=""),  # intent names, space-separated, in the order asked
    Column("outcome", String(20)),  # "transfer", "callback" or None (answered, or not finished)
    Column("service", String(100)),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("conversation_key", "session_start", name="uq_contact_session"),
)


# --- The studio: accounts, audit log, inbox decisions, background jobs -----------------------------------------

studio_users = Table(
    "studio_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(20), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("last_login_at", DateTime),
    Column("session_epoch", Integer, nullable=False, default=0, server_default="0"),
)

studio_audit = Table(
    "studio_audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("username", String(64), nullable=False),
    Column("action", String(100), nullable=False),
    Column("target", Text, nullable=False, default=""),
    Column("detail", JSON),
)

studio_inbox_decisions = Table(
    "studio_inbox_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(300), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("intent", String(100)),
    Column("text", Text, nullable=False, default=""),
    Column("file", String(200)),
    Column("username", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
)

studio_jobs = Table(
    "studio_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("status", String(12), nullable=False, default="pending"),
    Column("step", Text, nullable=False, default=""),
    Column("percent", Integer, nullable=False, default=0),
    Column("log_tail", Text, nullable=False, default=""),
    Column("result", JSON),
    Column("error", Text),
    Column("username", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("started_at", DateTime),
    Column("finished_at", DateTime),
)


# --- The analytics: conversations and turns projected from Rasa's tracker store ---------------------------------
# No message text and no identifier in clear: conversations and people are keyed hashes, turns keep only
# intents, confidences and response names.

# Where the projection stopped: the id of the last tracker store event projected.
analytics_state = Table(
    "analytics_state",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("value", Integer, nullable=False),
)

# One Rasa conversation session (a new session starts a new row).
analytics_conversations = Table(
    "analytics_conversations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_key", String(64), nullable=False, index=True),  # pseudonym of the sender id
    Column("person_key", String(64), nullable=False, index=True),  # the caller's pseudonym when known, else conversation_key
    Column("caller_key", String(64), index=True),  # pseudonym of the caller's phone number (caller id, callback request)
    Column("first_event_id", Integer, nullable=False),
    Column("last_event_id", Integer, nullable=False),
    Column("channel", String(20), nullable=False),  # web, voice, or the raw input channel
    Column("started_at", DateTime, nullable=False, index=True),  # UTC
    Column("ended_at", DateTime, nullable=False),  # UTC
    Column("duration_seconds", Float, nullable=False),
    Column("turns", Integer, nullable=False),
    Column("first_intent", String(100)),
    Column("main_intent", String(100), index=True),  # the first substantive intent: the call reason
    Column("intents", Text, nullable=False),  # JSON list, in order of first appearance
    Column("min_confidence", Float),
    Column("outcome", String(20), nullable=False),
    Column("handover_service", String(100)),
    Column("satisfaction", String(3)),  # "oui", "non" or None: the last answer to the feedback question
    UniqueConstraint("conversation_key", "first_event_id"),
)

# One patient message of a conversation, without its text.
analytics_turns = Table(
    "analytics_turns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", Integer, ForeignKey("analytics_conversations.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("conversation_key", String(64), nullable=False),
    Column("event_id", Integer, nullable=False),
    Column("at", DateTime, nullable=False),  # UTC
    Column("intent", String(100)),
    Column("confidence", Float),
    Column("fallback", Boolean, nullable=False),
    Column("responses", Text, nullable=False),  # JSON list of the bot's response names and actions that answered it
    Column("feedback", String(3)),  # "oui"/"non" when the patient judged the answer to this message
)


# --- The models in production (accueil's deployment flow) --------------------------------------------------------

# One row per change of the production model: initial, deploy or rollback; the production model is the latest row.
model_deployments = Table(
    "model_deployments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model_file", Text, nullable=False),  # absolute path of the .tar.gz
    Column("kind", String(16), nullable=False),  # initial, deploy or rollback
    Column("intent_macro_f1", Float),
    Column("entity_macro_f1", Float),
    Column("emergency_ok", Boolean),  # None: not checked (initial model)
    Column("forced", Boolean, nullable=False, default=False),
    Column("by", String(100), nullable=False),
    Column("at", DateTime, nullable=False),  # UTC
    Column("holdout_fingerprint", String(16)),
    Column("figures", JSON),  # ModelFigures.as_dict() on that held-out set
    Column("loaded", Boolean, nullable=False, default=False),  # loaded into a running Rasa server at once
    Column("note", Text, nullable=False, default=""),
)

# Each model's figures on each version of the held-out set, so a model is evaluated once.
model_evaluations = Table(
    "model_evaluations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model", String(200), nullable=False),  # file name
    Column("holdout_fingerprint", String(16), nullable=False),
    Column("figures", JSON, nullable=False),
    Column("report_dir", Text, nullable=False, default=""),
    Column("at", DateTime, nullable=False),
    UniqueConstraint("model", "holdout_fingerprint"),
)
