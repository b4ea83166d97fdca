"""The bench's voice-to-voice latency: measured once from the caller's last sound, and split
where the worker sees each turn."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bench.e2e import calls
from bench.e2e.split import journal_t0, split_turns, wait_calls_finalized

from navan_voice.caller.client import SAMPLE_RATE, Caller
from navan_voice.config import Settings

pytestmark = pytest.mark.unit


def utterance(speech_s: float, quiet_s: float) -> np.ndarray:
    t = np.arange(int(speech_s * SAMPLE_RATE)) / SAMPLE_RATE
    speech = (0.3 * 32767 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
    return np.concatenate([speech, np.zeros(int(quiet_s * SAMPLE_RATE), dtype=np.int16)])


async def test_say_times_the_reply_from_the_last_sound_and_dates_it() -> None:
    caller = Caller(Settings(), progress=lambda msg: None)
    spoken = utterance(0.3, 0.2)  # the last sound 0.2 s before the source's queue drains

    async def speak(samples: np.ndarray) -> None:
        caller._speech_end = time.monotonic() + 0.05

    async def done(timeout: float, quiet_s: float = 1.0) -> None:
        return None

    async def agent_replies() -> None:
        await asyncio.sleep(0.01)
        caller.listener.first_loud_after_mark = caller.listener.mark + 0.4
        caller.listener.heard.set()

    caller.speak = speak  # type: ignore[method-assign]
    caller.wait_agent_done = done  # type: ignore[method-assign]
    before = time.time()
    reply = asyncio.create_task(agent_replies())
    latency = await caller.say(spoken, reply_timeout=5.0)
    await reply
    assert latency == pytest.approx(0.4, abs=1e-6)
    ((last_sound, heard),) = caller.report.turn_walls
    assert heard - last_sound == pytest.approx(0.4, abs=1e-3)
    # the last sound was 0.15 s before the call started waiting (0.05 s queue - 0.2 s quiet)
    assert last_sound == pytest.approx(before - 0.15, abs=0.05)


async def test_conversation_reports_say_latency_without_adding_the_quiet_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class FakeCaller:
        """Stands in for the room client: say() has already timed from the last sound."""

        def __init__(self, settings: Any, **kwargs: Any) -> None:
            self.room_name = "call-test"
            self.report = type("R", (), {"greeting_s": 0.5, "transcript": [], "turn_walls": []})()
            self.listener = type("L", (), {"chunks": []})()

        async def connect(self) -> None: ...
        async def wait_for_agent(self, timeout: float) -> None: ...
        async def greet(self, timeout: float) -> None: ...
        async def close(self) -> None: ...

        async def say(self, samples: np.ndarray, reply_timeout: float) -> float:
            self.report.turn_walls.append((100.0, 100.7))
            return 0.7

    monkeypatch.setattr(calls, "Caller", FakeCaller)
    spoken = utterance(0.3, 0.15)
    assert calls.trailing_quiet_s(spoken) >= 0.14  # the quiet the old code added back
    result = await calls.conversation(Settings(), [spoken], reply_timeout=5.0)
    assert result.latencies_s == [0.7]
    assert result.turn_walls == [(100.0, 100.7)]


def test_each_turn_splits_into_uplink_worker_and_downlink() -> None:
    walls = [(10.0, 10.9), (20.0, 21.0)]
    worker = [
        {"stopped": 20.2, "e2e": 0.6, "commit": 0.5},
        {"stopped": 10.15, "e2e": 0.55, "commit": 0.48},
        {"stopped": 10.5, "e2e": 0.1},  # a later piece of the same utterance: not the reply
    ]
    rows = split_turns(walls, worker)
    assert [round(r["uplink"], 3) for r in rows] == [0.15, 0.2]
    assert [r["worker"] for r in rows] == [0.55, 0.6]
    assert [r["commit"] for r in rows] == [0.48, 0.5]
    for r in rows:
        assert r["uplink"] + r["worker"] + r["downlink"] == pytest.approx(r["heard"])
    assert rows[0]["downlink"] == pytest.approx(0.2)


def test_a_caller_turn_the_worker_never_saw_is_left_out() -> None:
    rows = split_turns([(10.0, 11.0)], [{"stopped": 9.9, "e2e": 0.5}, {"stopped": 13.0, "e2e": 1}])
    assert rows == []


def test_journal_t0_reads_the_start_record(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    assert journal_t0(events) is None
    events.write_text(
        "\n".join(
            [
                json.dumps({"kind": "agent", "name": "greeter"}),
                "{broken",
                json.dumps({"kind": "start", "t0": 1234.5}),
            ]
        )
    )
    assert journal_t0(events) == 1234.5


def _index_with(tmp_path: Path, status: str) -> Any:
    from navan_voice.db.engine import make_session_factory, upgrade_database
    from navan_voice.recording.testing import demo_call

    url = f"sqlite:///{tmp_path / 'calls.db'}"
    upgrade_database(url)
    factory = make_session_factory(url)
    with factory() as session:
        session.add(demo_call("call-1", started_at=datetime(2026, 12, 7, 6, 0), status=status))
        session.commit()
    return factory


def test_the_split_waits_for_a_call_still_recording_to_be_finalized(tmp_path: Path) -> None:
    from navan_voice.db.recording_tables import STATUS_COMPLETE, STATUS_RECORDING, CallRecord

    factory = _index_with(tmp_path, STATUS_RECORDING)

    def finalize() -> None:  # the worker closes the call's row as its job ends
        time.sleep(0.3)
        with factory() as session:
            row = session.get(CallRecord, "call-1")
            assert row is not None
            row.status = STATUS_COMPLETE
            session.commit()

    closer = threading.Thread(target=finalize)
    closer.start()
    wait_calls_finalized(factory, wait_s=30.0)
    with factory() as session:
        row = session.get(CallRecord, "call-1")
        assert row is not None and row.status == STATUS_COMPLETE  # it waited for the worker
    closer.join()
    factory.kw["bind"].dispose()


def test_the_split_gives_up_on_a_call_that_stays_recording(tmp_path: Path) -> None:
    from navan_voice.db.recording_tables import STATUS_RECORDING

    factory = _index_with(tmp_path, STATUS_RECORDING)  # a worker that died mid-call
    started = time.monotonic()
    wait_calls_finalized(factory, wait_s=0.6)  # returns: the bench reports what it has
    assert time.monotonic() - started >= 0.6
    factory.kw["bind"].dispose()
