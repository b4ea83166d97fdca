"""The recording index: one ``calls`` row per call and one ``call_turns`` row per turn.

Times are naive UTC. Everything a caller said is stored redacted (card numbers, CVV, expiry);
the caller's number only masked. Lists and maps the dashboard shows as they are (agents,
hand-offs, tool calls, tags, paused spans, transcript) are JSON columns; what it filters or
aggregates on (time, outcome, traveler, status, per-stage latencies) are plain columns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from navan_voice.db.tables import Base

# status of a call's recording
STATUS_RECORDING = "recording"  # the call is (or was, if the worker died) in progress
STATUS_COMPLETE = "complete"  # closed normally
STATUS_INCOMPLETE = "incomplete"  # the worker died mid-call; the file was repaired on restart

# where the recording file is
UPLOAD_LOCAL = "local"  # local storage backend: the file is where it belongs
UPLOAD_PENDING = "pending"  # remote backend was down: kept locally, `retry_pending_uploads`
UPLOAD_DONE = "uploaded"


class CallRecord(Base):
    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # the call id (job id)
    room: Mapped[str] = mapped_column(String(120), default="")
    channel: Mapped[str] = mapped_column(String(16), default="web")
    caller_masked: Mapped[str] = mapped_column(String(40), default="")
    traveler: Mapped[str | None] = mapped_column(String(120), nullable=True, index=True)
    trip: Mapped[str | None] = mapped_column(String(60), nullable=True)
    intent: Mapped[str | None] = mapped_column(String(60), nullable=True)
    started_at_utc: Mapped[datetime] = mapped_column(DateTime, index=True)
    ended_at_utc: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), default="abandoned", index=True)
    status: Mapped[str] = mapped_column(String(16), default=STATUS_RECORDING, index=True)
    agents: Mapped[list[str]] = mapped_column(JSON, default=list)
    handoffs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tool_calls: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    providers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    paused_spans: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recording_uri: Mapped[str] = mapped_column(String(500), default="")
    local_path: Mapped[str] = mapped_column(String(500), default="")
    upload_state: Mapped[str] = mapped_column(String(16), default=UPLOAD_LOCAL, index=True)
    turns: Mapped[list[CallTurnRecord]] = relationship(
        back_populates="call",
        cascade="all, delete-orphan",
        order_by="CallTurnRecord.index",
    )


class CallTurnRecord(Base):
    __tablename__ = "call_turns"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    at_s: Mapped[float] = mapped_column(Float, default=0.0)  # seconds from the call's start
    agent: Mapped[str] = mapped_column(String(60), default="")
    user_text: Mapped[str] = mapped_column(Text, default="")
    agent_text: Mapped[str] = mapped_column(Text, default="")
    eou_delay_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    transcription_delay_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    llm_ttft_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    tts_ttfb_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    e2e_latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    tool_latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    tts_characters: Mapped[int] = mapped_column(Integer, default=0)
    tts_audio_s: Mapped[float] = mapped_column(Float, default=0.0)
    stt_audio_s: Mapped[float] = mapped_column(Float, default=0.0)
    interrupted: Mapped[bool] = mapped_column(Boolean, default=False)
    false_interruption: Mapped[bool] = mapped_column(Boolean, default=False)
    call: Mapped[CallRecord] = relationship(back_populates="turns")
