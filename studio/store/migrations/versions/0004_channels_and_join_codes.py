"""Studio channels and the hall: a studio's playout switch and the join codes of its hall.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add ``studios.playout`` (off) and the ``join_codes`` table."""
    # A plain ADD COLUMN (SQLite takes it with its default): a batch copy of ``studios`` would
    # drop the table the sessions' foreign key points at.
    op.add_column(
        "studios", sa.Column("playout", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_table(
        "join_codes",
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column(
            "studio_id",
            sa.String(32),
            sa.ForeignKey("studios.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
    )
    op.create_index("ix_join_codes_studio_id", "join_codes", ["studio_id"])


def downgrade() -> None:
    """Migrations go forward only: restore a backup to go back."""
    raise NotImplementedError("Torget's migrations go forward only; restore a backup")
