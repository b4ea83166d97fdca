"""The index API the dashboard reads: filters, paging, one call, the overview."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from navan_voice.recording.index import count_calls, get_call, list_calls, overview, percentile
from navan_voice.recording.testing import demo_call, insert_demo_calls

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 24, 12, 0, 0)


@pytest.fixture
def demo(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    insert_demo_calls(session_factory, now=NOW)
    return session_factory


def test_list_is_newest_first_with_counts(demo: sessionmaker[Session]) -> None:
    calls = list_calls(demo)
    assert [c.id for c in calls] == ["demo-4", "demo-3", "demo-2", "demo-1"]
    two = calls[2]
    assert two.turn_count == 3
    assert two.handoff_count == 2
    assert two.caller_masked == "+1415•••0123"


def test_filters(demo: sessionmaker[Session]) -> None:
    assert [c.id for c in list_calls(demo, outcome="transferred")] == ["demo-2"]
    assert [c.id for c in list_calls(demo, agent="hotels")] == ["demo-2"]
    assert [c.id for c in list_calls(demo, agent="hotel")] == []  # whole names only
    assert [c.id for c in list_calls(demo, tag="refund_requested")] == ["demo-2"]
    assert [c.id for c in list_calls(demo, tag="vip")] == ["demo-1"]
    assert [c.id for c in list_calls(demo, traveler="Dana Whitfield")] == [
        "demo-4",
        "demo-2",
        "demo-1",
    ]
    window = list_calls(demo, since=NOW - timedelta(hours=2), until=NOW - timedelta(minutes=30))
    assert [c.id for c in window] == ["demo-3", "demo-2"]
    aware = list_calls(demo, since=(NOW - timedelta(minutes=30)).replace(tzinfo=UTC))
    assert [c.id for c in aware] == ["demo-4"]
    assert count_calls(demo, agent="greeter") == 4


def test_hostile_filter_values_match_nothing(demo: sessionmaker[Session]) -> None:
    assert list_calls(demo, tag="%") == []
    assert list_calls(demo, agent='" OR 1=1 --') == []


def test_paging(demo: sessionmaker[Session]) -> None:
    first = list_calls(demo, limit=2)
    second = list_calls(demo, limit=2, offset=2)
    assert [c.id for c in first + second] == ["demo-4", "demo-3", "demo-2", "demo-1"]


def test_get_call_detail(demo: sessionmaker[Session]) -> None:
    detail = get_call(demo, "demo-2")
    assert detail is not None
    assert [t.e2e_latency_ms for t in detail.turns] == [1300.0, 1700.0, 2100.0]
    assert [(h.from_agent, h.to_agent) for h in detail.handoffs] == [
        ("greeter", "hotels"),
        ("hotels", "human"),
    ]
    assert [t.name for t in detail.tool_calls] == ["find_hotel", "request_refund"]
    assert detail.tool_calls[0].arguments == {"trip_id": "T1"}
    assert detail.call.tags == {"refund_requested": {"amount_cents": 18900}}
    assert {line.speaker for line in detail.transcript} == {"caller", "agent"}
    assert get_call(demo, "nope") is None


def test_overview(demo: sessionmaker[Session]) -> None:
    ov = overview(demo, since=NOW - timedelta(hours=4), bucket=timedelta(hours=1))
    assert ov.calls == 4
    assert ov.containment_rate == pytest.approx(0.5)
    assert ov.transfer_rate == pytest.approx(0.25)
    assert ov.handoff_rate == pytest.approx(0.75)  # demo-3 stayed with the greeter
    assert ov.outcomes == {"abandoned": 1, "resolved": 2, "transferred": 1}
    assert ov.stages["e2e"].count == 8
    assert ov.stages["e2e"].p50_ms == pytest.approx(1100.0)
    assert ov.stages["tool"].count == 0 and ov.stages["tool"].p95_ms is None
    # buckets of an hour from `since`: -3h, -2h, then -1h and -10min share the last
    assert [b.calls for b in ov.buckets] == [1, 1, 2]
    assert ov.buckets[1].stages["e2e"].p50_ms == pytest.approx(1700.0)
    assert sorted(ov.top_intents) == [
        ("expense_status", 1),
        ("flight_change", 1),
        ("hotel_refund", 1),
    ]
    assert dict(ov.top_tools)["get_trip"] == 1
    # the same window given as timezone-aware UTC (as an API caller sends it) gives the same
    aware = overview(
        demo, since=(NOW - timedelta(hours=4)).replace(tzinfo=UTC), bucket=timedelta(hours=1)
    )
    assert [b.calls for b in aware.buckets] == [1, 1, 2] and aware.calls == 4


def test_overview_empty(session_factory: sessionmaker[Session]) -> None:
    ov = overview(session_factory)
    assert ov.calls == 0 and ov.containment_rate is None and ov.buckets == []
    with pytest.raises(ValueError, match="positive"):
        overview(session_factory, bucket=timedelta(0))


def test_turns_deleted_with_call(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s, s.begin():
        s.add(demo_call("x", started_at=NOW))
    with session_factory() as s, s.begin():
        row = s.get(type(demo_call("y", started_at=NOW)), "x")
        s.delete(row)
    assert get_call(session_factory, "x") is None


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([], 50, None), ([5.0], 95, 5.0), ([1.0, 2.0, 3.0, 4.0], 50, 2.5), ([1.0, 9.0], 95, 8.6)],
)
def test_percentile(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == (pytest.approx(expected) if expected is not None else None)


def test_overview_counts_the_turns_not_understood(demo: sessionmaker[Session]) -> None:
    from navan_voice.speech.unclear import UNCLEAR

    assert overview(demo, since=NOW - timedelta(hours=4)).unclear_turns == 0
    call = demo_call("unclear-1", started_at=NOW - timedelta(minutes=5), latencies_ms=[900.0] * 3)
    call.turns[0].user_text = UNCLEAR
    call.turns[1].user_text = UNCLEAR
    with demo() as s, s.begin():
        s.add(call)
    assert overview(demo, since=NOW - timedelta(hours=4)).unclear_turns == 2
