"""recording index: calls and call_turns

Revision ID: 0100_recordings
Revises: 0001
Create Date: 2026-11-24 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0100_recordings"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("room", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("caller_masked", sa.String(length=40), nullable=False),
        sa.Column("traveler", sa.String(length=120), nullable=True),
        sa.Column("trip", sa.String(length=60), nullable=True),
        sa.Column("intent", sa.String(length=60), nullable=True),
        sa.Column("started_at_utc", sa.DateTime(), nullable=False),
        sa.Column("ended_at_utc", sa.DateTime(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("agents", sa.JSON(), nullable=False),
        sa.Column("handoffs", sa.JSON(), nullable=False),
        sa.Column("tool_calls", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("providers", sa.JSON(), nullable=False),
        sa.Column("paused_spans", sa.JSON(), nullable=False),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("recording_uri", sa.String(length=500), nullable=False),
        sa.Column("local_path", sa.String(length=500), nullable=False),
        sa.Column("upload_state", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calls_outcome"), ["outcome"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_calls_started_at_utc"), ["started_at_utc"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_calls_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_traveler"), ["traveler"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_upload_state"), ["upload_state"], unique=False)

    op.create_table(
        "call_turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=80), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("at_s", sa.Float(), nullable=False),
        sa.Column("agent", sa.String(length=60), nullable=False),
        sa.Column("user_text", sa.Text(), nullable=False),
        sa.Column("agent_text", sa.Text(), nullable=False),
        sa.Column("eou_delay_ms", sa.Float(), nullable=True),
        sa.Column("transcription_delay_ms", sa.Float(), nullable=True),
        sa.Column("llm_ttft_ms", sa.Float(), nullable=True),
        sa.Column("tts_ttfb_ms", sa.Float(), nullable=True),
        sa.Column("e2e_latency_ms", sa.Float(), nullable=True),
        sa.Column("tool_latency_ms", sa.Float(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("tts_characters", sa.Integer(), nullable=False),
        sa.Column("tts_audio_s", sa.Float(), nullable=False),
        sa.Column("stt_audio_s", sa.Float(), nullable=False),
        sa.Column("interrupted", sa.Boolean(), nullable=False),
        sa.Column("false_interruption", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_call_turns_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_turns")),
    )
    with op.batch_alter_table("call_turns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_turns_call_id"), ["call_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("call_turns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_turns_call_id"))
    op.drop_table("call_turns")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_upload_state"))
        batch_op.drop_index(batch_op.f("ix_calls_traveler"))
        batch_op.drop_index(batch_op.f("ix_calls_status"))
        batch_op.drop_index(batch_op.f("ix_calls_started_at_utc"))
        batch_op.drop_index(batch_op.f("ix_calls_outcome"))
    op.drop_table("calls")
