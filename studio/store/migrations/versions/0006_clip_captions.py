"""Clips with captions burned in: the caption language of each clip (NULL: none).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add clips.captions."""
    op.add_column("clips", sa.Column("captions", sa.String(35), nullable=True))


def downgrade() -> None:
    """Migrations go forward only: restore a backup to go back (docs/operations.md)."""
    raise NotImplementedError("restore a backup taken before the upgrade")
