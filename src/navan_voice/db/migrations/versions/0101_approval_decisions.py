"""approval requests: the cabin asked for, and who decided when

Revision ID: 0101_approval_decisions
Revises: 0100_recordings
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0101_approval_decisions"
down_revision: str | None = "0100_recordings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode: SQLite alters a table by copying it
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cabin",
                sa.Enum(
                    "economy",
                    "premium_economy",
                    "business",
                    "first",
                    name="cabinclass",
                    native_enum=False,
                    length=24,
                ),
                nullable=True,  # requests filed before this revision: the segment's cabin
            )
        )
        batch_op.add_column(sa.Column("decided_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("decided_at_utc", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.drop_column("decided_at_utc")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("cabin")
