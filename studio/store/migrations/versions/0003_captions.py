"""Caption lines kept with their session.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# studio.store.tables.UtcDateTime stores this type (the decorator adds no DDL of its own).
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the ``captions`` table."""
    op.create_table(
        "captions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "session_id",
            sa.String(32),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("end_ms", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.create_index("ix_captions_session_start", "captions", ["session_id", "language", "start_ms"])


def downgrade() -> None:
    """Drop the ``captions`` table."""
    op.drop_index("ix_captions_session_start", table_name="captions")
    op.drop_table("captions")
