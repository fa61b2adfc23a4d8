"""Clips of a session (``studio.clips``): one row per clip and aspect.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# studio.store.tables.UtcDateTime stores this type (the decorator adds no DDL of its own).
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the clips table."""
    op.create_table(
        "clips",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "session_id",
            sa.String(32),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("aspect", sa.String(8), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("in_seconds", sa.Float(), nullable=False),
        sa.Column("out_seconds", sa.Float(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.create_index("ix_clips_session_id", "clips", ["session_id"])


def downgrade() -> None:
    """Migrations go forward only: restore a backup to go back (docs/operations.md)."""
    raise NotImplementedError("restore a backup taken before the upgrade")
