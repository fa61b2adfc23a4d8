"""Media ownership epochs: each claim of a session's media is kept with its epoch (fencing).

``media_owners.epoch`` is the current claim's epoch, ``media_claims`` every claim (which node
held the media from when), ``recordings.epoch`` the epoch a recording's record was last
written under (NULL for records written before epochs existed).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# studio.store.tables.UtcDateTime stores this type (the decorator adds no DDL of its own).
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the epoch columns and the claims table."""
    op.add_column("recordings", sa.Column("epoch", sa.Integer(), nullable=True))
    op.add_column(
        "media_owners", sa.Column("epoch", sa.Integer(), nullable=False, server_default="0")
    )
    op.create_table(
        "media_claims",
        sa.Column(
            "session_id",
            sa.String(32),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("epoch", sa.Integer(), primary_key=True),
        sa.Column("node_url", sa.String(300), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("claimed_at", Timestamp, nullable=False),
    )
