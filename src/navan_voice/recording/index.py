"""Read side of the recording index, for the dashboard: list, one call, an overview.

Every function takes a SQLAlchemy session factory and returns frozen dataclasses (no ORM
objects escape, so a caller never triggers lazy loads after the session closed). Times are naive
UTC ``datetime``s; latencies in milliseconds; ``at_s`` / ``start_s`` in seconds from the call's
start (the recording's timeline). Text in here was redacted before it was stored.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker
from sqlalchemy.sql import Select

from navan_voice.db.recording_tables import CallRecord, CallTurnRecord
from navan_voice.speech.unclear import UNCLEAR

SessionFactory = sessionmaker[Session]

# the per-turn stages, in pipeline order, with the column each one is read from
STAGES: dict[str, str] = {
    "eou_delay": "eou_delay_ms",
    "transcription_delay": "transcription_delay_ms",
    "llm_ttft": "llm_ttft_ms",
    "tts_ttfb": "tts_ttfb_ms",
    "tool": "tool_latency_ms",
    "e2e": "e2e_latency_ms",
}

_S = TypeVar("_S", bound="Select[*tuple[Any, ...]]")

OUTCOMES = ("resolved", "transferred", "abandoned")


@dataclass(frozen=True)
class CallSummary:
    """One row of the calls list."""

    id: str
    room: str
    channel: str
    caller_masked: str
    traveler: str | None
    trip: str | None
    intent: str | None
    started_at: datetime
    ended_at: datetime | None
    duration_s: float | None
    outcome: str
    status: str  # recording | complete | incomplete
    agents: list[str]
    tags: dict[str, Any]
    turn_count: int
    handoff_count: int
    recording_uri: str


@dataclass(frozen=True)
class Turn:
    index: int
    at_s: float
    agent: str
    user_text: str
    agent_text: str
    eou_delay_ms: float | None
    transcription_delay_ms: float | None
    llm_ttft_ms: float | None
    tts_ttfb_ms: float | None
    e2e_latency_ms: float | None
    tool_latency_ms: float | None
    prompt_tokens: int
    completion_tokens: int
    tts_characters: int
    tts_audio_s: float
    stt_audio_s: float
    interrupted: bool
    false_interruption: bool


@dataclass(frozen=True)
class ToolCall:
    at_s: float
    agent: str
    name: str
    arguments: dict[str, Any]
    result: str
    is_error: bool
    latency_ms: float | None


@dataclass(frozen=True)
class Handoff:
    at_s: float
    from_agent: str | None
    to_agent: str


@dataclass(frozen=True)
class TranscriptLine:
    start_s: float
    end_s: float | None
    speaker: str  # "caller" | "agent"
    agent: str
    text: str


@dataclass(frozen=True)
class PausedSpan:
    start_s: float
    end_s: float | None
    reason: str


@dataclass(frozen=True)
class CallDetail:
    """Everything the call page shows."""

    call: CallSummary
    turns: list[Turn]
    tool_calls: list[ToolCall]
    handoffs: list[Handoff]
    transcript: list[TranscriptLine]
    paused_spans: list[PausedSpan]
    providers: dict[str, Any]
    summary: dict[str, Any]
    recording_uri: str  # file path (local backend) or s3://bucket/key
    local_path: str  # the local copy, when there is one (local backend, pending upload)
    upload_state: str  # local | pending | uploaded


@dataclass(frozen=True)
class StageStats:
    count: int
    p50_ms: float | None
    p95_ms: float | None


@dataclass(frozen=True)
class Bucket:
    start: datetime
    calls: int
    stages: dict[str, StageStats]


@dataclass(frozen=True)
class Overview:
    calls: int
    containment_rate: float | None  # resolved without a human / calls
    handoff_rate: float | None  # calls with at least one hand-off / calls
    transfer_rate: float | None  # transferred to a human / calls
    outcomes: dict[str, int]
    stages: dict[str, StageStats]
    buckets: list[Bucket]
    top_intents: list[tuple[str, int]]
    top_tools: list[tuple[str, int]]
    interruptions: int = 0
    false_interruptions: int = 0
    unclear_turns: int = 0  # caller turns the STT could not make out (speech/unclear.py)
    extra: dict[str, Any] = field(default_factory=dict)


# --- queries ---------------------------------------------------------------------------------
def list_calls(
    session_factory: SessionFactory,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    outcome: str | None = None,
    agent: str | None = None,
    traveler: str | None = None,
    tag: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[CallSummary]:
    """Calls, newest first. ``tag`` matches calls that have that tag key; ``agent`` calls that
    visited that agent; ``since`` inclusive, ``until`` exclusive."""
    limit = max(1, min(int(limit), 500))
    offset = max(0, int(offset))
    stmt = _filtered(
        select(CallRecord),
        since=since,
        until=until,
        outcome=outcome,
        agent=agent,
        traveler=traveler,
        tag=tag,
    )
    stmt = stmt.order_by(CallRecord.started_at_utc.desc(), CallRecord.id).limit(limit)
    stmt = stmt.offset(offset)
    turn_counts = select(CallTurnRecord.call_id, func.count(CallTurnRecord.id)).group_by(
        CallTurnRecord.call_id
    )
    with session_factory() as session:
        rows = list(session.scalars(stmt))
        ids = [row.id for row in rows]
        counts: dict[str, int] = {}
        if ids:
            pairs = session.execute(turn_counts.where(CallTurnRecord.call_id.in_(ids))).all()
            counts = {str(call_id): int(n) for call_id, n in pairs}
        return [_summary(row, counts.get(row.id, 0)) for row in rows]


def count_calls(
    session_factory: SessionFactory,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    outcome: str | None = None,
    agent: str | None = None,
    traveler: str | None = None,
    tag: str | None = None,
) -> int:
    """How many calls ``list_calls`` would page through with the same filters."""
    stmt = _filtered(
        select(func.count(CallRecord.id)),
        since=since,
        until=until,
        outcome=outcome,
        agent=agent,
        traveler=traveler,
        tag=tag,
    )
    with session_factory() as session:
        return int(session.execute(stmt).scalar_one())


def get_call(session_factory: SessionFactory, call_id: str) -> CallDetail | None:
    """One call with its turns, tools, hand-offs and transcript; None when it does not exist."""
    stmt = (
        select(CallRecord).where(CallRecord.id == call_id).options(selectinload(CallRecord.turns))
    )
    with session_factory() as session:
        row = session.scalars(stmt).first()
        if row is None:
            return None
        return CallDetail(
            call=_summary(row, len(row.turns)),
            turns=[_turn(t) for t in row.turns],
            tool_calls=[_tool_call(d) for d in _dicts(row.tool_calls)],
            handoffs=[
                Handoff(
                    at_s=_float(d.get("at_s")),
                    from_agent=_opt_str(d.get("from")),
                    to_agent=str(d.get("to", "")),
                )
                for d in _dicts(row.handoffs)
            ],
            transcript=[
                TranscriptLine(
                    start_s=_float(d.get("start_s")),
                    end_s=_opt_float(d.get("end_s")),
                    speaker=str(d.get("speaker", "")),
                    agent=str(d.get("agent", "")),
                    text=str(d.get("text", "")),
                )
                for d in _dicts(row.transcript)
            ],
            paused_spans=[
                PausedSpan(
                    start_s=_float(d.get("start_s")),
                    end_s=_opt_float(d.get("end_s")),
                    reason=str(d.get("reason", "")),
                )
                for d in _dicts(row.paused_spans)
            ],
            providers=dict(row.providers or {}),
            summary=dict(row.summary or {}),
            recording_uri=row.recording_uri,
            local_path=row.local_path,
            upload_state=row.upload_state,
        )


def overview(
    session_factory: SessionFactory,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    bucket: timedelta = timedelta(hours=1),
    top: int = 10,
) -> Overview:
    """Latency p50/p95 per stage (overall and per time bucket), containment, hand-off rate,
    top intents and tools, over the calls that started in ``[since, until)``."""
    if bucket.total_seconds() <= 0:
        raise ValueError("bucket must be a positive duration, e.g. timedelta(hours=1)")
    calls_stmt = _filtered(select(CallRecord), since=since, until=until)
    turns_stmt = select(CallTurnRecord, CallRecord.started_at_utc).join(CallRecord)
    turns_stmt = _filtered(turns_stmt, since=since, until=until)
    with session_factory() as session:
        calls = list(session.scalars(calls_stmt))
        turn_rows: list[tuple[CallTurnRecord, datetime]] = [
            (row[0], row[1]) for row in session.execute(turns_stmt)
        ]

    n = len(calls)
    outcomes = Counter(c.outcome for c in calls)
    intents = Counter(c.intent for c in calls if c.intent)
    tools = Counter(
        str(d.get("name")) for c in calls for d in _dicts(c.tool_calls) if d.get("name")
    )
    all_turns = [t for t, _ in turn_rows]
    overall = {stage: _stats(all_turns, col) for stage, col in STAGES.items()}

    origin = min((c.started_at_utc for c in calls), default=None)
    if since is not None:
        origin = _naive(since)
    by_bucket: dict[datetime, list[CallTurnRecord]] = {}
    calls_per_bucket: Counter[datetime] = Counter()
    if origin is not None:
        for c in calls:
            calls_per_bucket[_bucket_start(c.started_at_utc, origin, bucket)] += 1
        for t, started in turn_rows:
            by_bucket.setdefault(_bucket_start(started, origin, bucket), []).append(t)
    buckets = [
        Bucket(
            start=start,
            calls=calls_per_bucket[start],
            stages={stage: _stats(by_bucket.get(start, []), col) for stage, col in STAGES.items()},
        )
        for start in sorted(set(calls_per_bucket) | set(by_bucket))
    ]
    return Overview(
        calls=n,
        containment_rate=_rate(outcomes.get("resolved", 0), n),
        handoff_rate=_rate(sum(1 for c in calls if c.handoffs), n),
        transfer_rate=_rate(outcomes.get("transferred", 0), n),
        outcomes={o: outcomes.get(o, 0) for o in sorted(set(OUTCOMES) | set(outcomes))},
        stages=overall,
        buckets=buckets,
        top_intents=intents.most_common(top),
        top_tools=tools.most_common(top),
        interruptions=sum(1 for t, _ in turn_rows if t.interrupted),
        false_interruptions=sum(1 for t, _ in turn_rows if t.false_interruption),
        unclear_turns=sum(1 for t, _ in turn_rows if t.user_text == UNCLEAR),
    )


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# --- helpers ---------------------------------------------------------------------------------
def _filtered(
    stmt: _S,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    outcome: str | None = None,
    agent: str | None = None,
    traveler: str | None = None,
    tag: str | None = None,
) -> _S:
    if since is not None:
        stmt = stmt.where(CallRecord.started_at_utc >= _naive(since))
    if until is not None:
        stmt = stmt.where(CallRecord.started_at_utc < _naive(until))
    if outcome:
        stmt = stmt.where(CallRecord.outcome == outcome)
    if traveler:
        stmt = stmt.where(CallRecord.traveler == traveler)
    # JSON columns are stored as json.dumps text on SQLite and PostgreSQL alike
    if agent:
        stmt = stmt.where(cast(CallRecord.agents, String).contains(f'"{agent}"', autoescape=True))
    if tag:
        stmt = stmt.where(cast(CallRecord.tags, String).contains(f'"{tag}":', autoescape=True))
    return stmt


def _naive(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _summary(row: CallRecord, turn_count: int) -> CallSummary:
    return CallSummary(
        id=row.id,
        room=row.room,
        channel=row.channel,
        caller_masked=row.caller_masked,
        traveler=row.traveler,
        trip=row.trip,
        intent=row.intent,
        started_at=row.started_at_utc,
        ended_at=row.ended_at_utc,
        duration_s=row.duration_s,
        outcome=row.outcome,
        status=row.status,
        agents=[str(a) for a in (row.agents or [])],
        tags=dict(row.tags or {}),
        turn_count=turn_count,
        handoff_count=len(row.handoffs or []),
        recording_uri=row.recording_uri,
    )


def _turn(t: CallTurnRecord) -> Turn:
    return Turn(
        index=t.index,
        at_s=t.at_s,
        agent=t.agent,
        user_text=t.user_text,
        agent_text=t.agent_text,
        eou_delay_ms=t.eou_delay_ms,
        transcription_delay_ms=t.transcription_delay_ms,
        llm_ttft_ms=t.llm_ttft_ms,
        tts_ttfb_ms=t.tts_ttfb_ms,
        e2e_latency_ms=t.e2e_latency_ms,
        tool_latency_ms=t.tool_latency_ms,
        prompt_tokens=t.prompt_tokens,
        completion_tokens=t.completion_tokens,
        tts_characters=t.tts_characters,
        tts_audio_s=t.tts_audio_s,
        stt_audio_s=t.stt_audio_s,
        interrupted=t.interrupted,
        false_interruption=t.false_interruption,
    )


def _tool_call(d: dict[str, Any]) -> ToolCall:
    args = d.get("arguments")
    return ToolCall(
        at_s=_float(d.get("at_s")),
        agent=str(d.get("agent", "")),
        name=str(d.get("name", "")),
        arguments=args if isinstance(args, dict) else {"raw": args},
        result=str(d.get("result", "")),
        is_error=bool(d.get("is_error", False)),
        latency_ms=_opt_float(d.get("latency_ms")),
    )


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [d for d in (value or []) if isinstance(d, dict)]


def _stats(turns: list[CallTurnRecord], column: str) -> StageStats:
    values = [float(v) for t in turns if (v := getattr(t, column)) is not None]
    return StageStats(
        count=len(values), p50_ms=percentile(values, 50), p95_ms=percentile(values, 95)
    )


def _bucket_start(at: datetime, origin: datetime, size: timedelta) -> datetime:
    steps = math.floor((at - origin) / size)
    return origin + steps * size


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _opt_float(value: Any) -> float | None:
    return None if value is None else _float(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
