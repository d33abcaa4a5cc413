"""Knowledge base: organisation, places and hours, wards and visiting rules, articles, versions, search.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("short_name", sa.String(80), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("switchboard_phone", sa.String(40), nullable=False),
        sa.Column("switchboard_hours", sa.String(120), nullable=False),
        sa.Column("patient_portal", sa.String(120), nullable=False),
    )
    op.create_table(
        "place",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(80), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("synonyms", sa.JSON, nullable=False),
        sa.Column("location", sa.String(200)),
        sa.Column("phone", sa.String(40)),
        sa.Column("always_open", sa.Boolean, nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_table(
        "opening_hours",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("place_id", sa.Integer, sa.ForeignKey("place.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("weekday", sa.SmallInteger, nullable=False),
        sa.Column("opens", sa.Time, nullable=False),
        sa.Column("closes", sa.Time, nullable=False),
    )
    op.create_table(
        "ward",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(80), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("synonyms", sa.JSON, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_table(
        "visiting_rule",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ward_id", sa.Integer, sa.ForeignKey("ward.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("position", sa.SmallInteger, nullable=False),
        sa.Column("audience", sa.String(120), nullable=False),
        sa.Column("all_day", sa.Boolean, nullable=False),
        sa.Column("opens", sa.Time),
        sa.Column("closes", sa.Time),
        sa.Column("max_visitors", sa.SmallInteger),
        sa.Column("min_age", sa.SmallInteger),
    )
    op.create_table(
        "article",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(120), nullable=False, unique=True),
        sa.Column("topic", sa.String(60), nullable=False, index=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("keywords", sa.JSON, nullable=False),
        sa.Column("related", sa.JSON, nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("updated_at", sa.Date, nullable=False),
        sa.Column("show_updated_at", sa.Boolean, nullable=False),
        sa.Column("synced_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "kb_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False, index=True),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("snapshot", sa.JSON, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE article ADD COLUMN search_vector tsvector")
        op.execute("CREATE INDEX ix_article_search_vector ON article USING gin (search_vector)")
    else:
        op.execute("CREATE VIRTUAL TABLE article_search USING fts5(slug UNINDEXED, title, keywords, body, tokenize='unicode61')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE article_search")
    for table in ("kb_version", "article", "visiting_rule", "ward", "opening_hours", "place", "organisation"):
        op.drop_table(table)
