"""Demo rows for the recording index: for tests and for the dashboard's own tests and demo.

``insert_demo_calls`` writes a few finished calls with turns, tools, hand-offs, tags and a
transcript, so a dashboard can be built and tested without running a single call.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from navan_voice.db.recording_tables import (
    STATUS_COMPLETE,
    UPLOAD_LOCAL,
    CallRecord,
    CallTurnRecord,
)


def demo_call(
    call_id: str,
    *,
    started_at: datetime,
    outcome: str = "resolved",
    agents: list[str] | None = None,
    traveler: str | None = "Dana Whitfield",
    tags: dict[str, Any] | None = None,
    intent: str | None = "flight_change",
    tools: list[str] | None = None,
    latencies_ms: list[float] | None = None,
    recording_path: str = "",
    status: str = STATUS_COMPLETE,
) -> CallRecord:
    """One call row with a turn per entry of ``latencies_ms`` (end-to-end latency)."""
    agents = agents if agents is not None else ["greeter", "flights"]
    latencies_ms = latencies_ms if latencies_ms is not None else [900.0, 1100.0]
    handoffs = [
        {"at_s": 5.0 * i, "from": agents[i - 1], "to": agents[i]} for i in range(1, len(agents))
    ]
    tool_calls = [
        {
            "at_s": 3.0 + i,
            "agent": agents[-1],
            "name": name,
            "arguments": {"trip_id": "T1"},
            "result": "ok",
            "is_error": False,
            "latency_ms": 120.0,
        }
        for i, name in enumerate(tools if tools is not None else ["get_trip"])
    ]
    transcript: list[dict[str, Any]] = []
    turns: list[CallTurnRecord] = []
    for i, e2e in enumerate(latencies_ms):
        at = 2.0 + 6.0 * i
        transcript.append(
            {"start_s": at - 1.5, "end_s": at, "speaker": "caller", "agent": "", "text": f"q{i}"}
        )
        transcript.append(
            {
                "start_s": at + e2e / 1000,
                "end_s": at + e2e / 1000 + 2,
                "speaker": "agent",
                "agent": agents[min(i, len(agents) - 1)],
                "text": f"a{i}",
            }
        )
        turns.append(
            CallTurnRecord(
                index=i,
                at_s=at,
                agent=agents[min(i, len(agents) - 1)],
                user_text=f"q{i}",
                agent_text=f"a{i}",
                eou_delay_ms=500.0,
                transcription_delay_ms=300.0,
                llm_ttft_ms=200.0,
                tts_ttfb_ms=150.0,
                e2e_latency_ms=e2e,
                tool_latency_ms=None,
                prompt_tokens=100,
                completion_tokens=20,
                tts_characters=40,
                tts_audio_s=2.0,
                stt_audio_s=1.5,
                interrupted=False,
                false_interruption=False,
            )
        )
    duration = 6.0 * len(latencies_ms) + 4.0
    return CallRecord(
        id=call_id,
        room=f"call-{call_id}",
        channel="phone",
        caller_masked="+1415•••0123",
        traveler=traveler,
        trip="T1",
        intent=intent,
        started_at_utc=started_at,
        ended_at_utc=started_at + timedelta(seconds=duration),
        duration_s=duration,
        outcome=outcome,
        status=status,
        agents=agents,
        handoffs=handoffs,
        tool_calls=tool_calls,
        tags=tags or {},
        providers={"stt": "local/whisper-tiny.en", "llm": "local/rules", "tts": "local/piper"},
        paused_spans=[],
        transcript=transcript,
        summary={"turns": len(turns)},
        recording_uri=recording_path,
        local_path=recording_path,
        upload_state=UPLOAD_LOCAL,
        turns=turns,
    )


def insert_demo_calls(
    session_factory: sessionmaker[Session], *, now: datetime | None = None
) -> list[str]:
    """Four demo calls over the last few hours; returns their ids."""
    now = now or datetime(2026, 11, 24, 12, 0, 0)
    calls = [
        demo_call("demo-1", started_at=now - timedelta(hours=3), tags={"vip": True}),
        demo_call(
            "demo-2",
            started_at=now - timedelta(hours=2),
            outcome="transferred",
            agents=["greeter", "hotels", "human"],
            intent="hotel_refund",
            tags={"refund_requested": {"amount_cents": 18900}},
            tools=["find_hotel", "request_refund"],
            latencies_ms=[1300.0, 1700.0, 2100.0],
        ),
        demo_call(
            "demo-3",
            started_at=now - timedelta(hours=1),
            outcome="abandoned",
            agents=["greeter"],
            traveler=None,
            intent=None,
            tools=[],
            latencies_ms=[800.0],
        ),
        demo_call(
            "demo-4",
            started_at=now - timedelta(minutes=10),
            agents=["greeter", "expenses"],
            intent="expense_status",
            tools=["list_expenses"],
        ),
    ]
    with session_factory() as session, session.begin():
        session.add_all(calls)
    return [c.id for c in calls]
