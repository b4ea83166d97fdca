"""approval requests: when the traveler was told the decision, and on which call

Revision ID: 0102_approval_told
Revises: 0101_approval_decisions
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0102_approval_told"
down_revision: str | None = "0101_approval_decisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode: SQLite alters a table by copying it
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("told_at_utc", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("told_on_call", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.drop_column("told_on_call")
        batch_op.drop_column("told_at_utc")
