"""One store: the tables the actions, the studio, the analytics and the deployments created on first use.

A database made before this revision may hold any of them already (each package created its own tables,
and the studio added `studio_users.session_epoch` by hand): each table is created when absent, the column
added when missing, so the database is upgraded in place with its rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = (
    "answer_feedback",
    "handover_requests",
    "contact_history",
    "studio_users",
    "studio_audit",
    "studio_inbox_decisions",
    "studio_jobs",
    "analytics_state",
    "analytics_conversations",
    "analytics_turns",
    "model_deployments",
    "model_evaluations",
)


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name in TABLES:
        if name not in existing:
            globals()[f"_create_{name}"]()
    if "studio_users" in existing:
        columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("studio_users")}
        if "session_epoch" not in columns:
            op.add_column("studio_users", sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)


def _create_answer_feedback() -> None:
    op.create_table(
        "answer_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=50), nullable=True),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_answer_feedback_sender_id", "answer_feedback", ["sender_id"], unique=False)


def _create_handover_requests() -> None:
    op.create_table(
        "handover_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=50), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("service", sa.String(length=100), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("callback_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handover_requests_sender_id", "handover_requests", ["sender_id"], unique=False)


def _create_contact_history() -> None:
    op.create_table(
        "contact_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=False),
        sa.Column("conversation_key", sa.String(length=64), nullable=False),
        sa.Column("session_start", sa.DateTime(), nullable=False),
        sa.Column("channel", sa.String(length=50), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("service", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_key", "session_start", name="uq_contact_session"),
    )
    op.create_index("ix_contact_history_person_key", "contact_history", ["person_key"], unique=False)


def _create_studio_users() -> None:
    op.create_table(
        "studio_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )


def _create_studio_audit() -> None:
    op.create_table(
        "studio_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_studio_audit_at", "studio_audit", ["at"], unique=False)


def _create_studio_inbox_decisions() -> None:
    op.create_table(
        "studio_inbox_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("file", sa.String(length=200), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )


def _create_studio_jobs() -> None:
    op.create_table(
        "studio_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("log_tail", sa.Text(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def _create_analytics_state() -> None:
    op.create_table(
        "analytics_state",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def _create_analytics_conversations() -> None:
    op.create_table(
        "analytics_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_key", sa.String(length=64), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=False),
        sa.Column("caller_key", sa.String(length=64), nullable=True),
        sa.Column("first_event_id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("first_intent", sa.String(length=100), nullable=True),
        sa.Column("main_intent", sa.String(length=100), nullable=True),
        sa.Column("intents", sa.Text(), nullable=False),
        sa.Column("min_confidence", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("handover_service", sa.String(length=100), nullable=True),
        sa.Column("satisfaction", sa.String(length=3), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_key", "first_event_id"),
    )
    for column in ("caller_key", "conversation_key", "main_intent", "person_key", "started_at"):
        op.create_index(f"ix_analytics_conversations_{column}", "analytics_conversations", [column], unique=False)


def _create_analytics_turns() -> None:
    op.create_table(
        "analytics_turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("conversation_key", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("responses", sa.Text(), nullable=False),
        sa.Column("feedback", sa.String(length=3), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["analytics_conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_analytics_turns_conversation_id", "analytics_turns", ["conversation_id"], unique=False)


def _create_model_deployments() -> None:
    op.create_table(
        "model_deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_file", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("intent_macro_f1", sa.Float(), nullable=True),
        sa.Column("entity_macro_f1", sa.Float(), nullable=True),
        sa.Column("emergency_ok", sa.Boolean(), nullable=True),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("holdout_fingerprint", sa.String(length=16), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=True),
        sa.Column("loaded", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def _create_model_evaluations() -> None:
    op.create_table(
        "model_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("holdout_fingerprint", sa.String(length=16), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("report_dir", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model", "holdout_fingerprint"),
    )
