"""Each answered turn split where the worker sees it: what the caller heard, taken apart.

The caller records the wall-clock time of its last sound and of the agent's first loud frame
(``CallResult.turn_walls``); the worker's turn metrics (the recording index) date the caller's
end of speech as its VAD saw it (``at_s`` from the call's ``t0``, livekit's back-dated last
speaking time) and its own end-to-end latency to the first audio frame it sent. The bench,
worker and server run on one machine, so their wall clocks agree and every turn splits into:

- uplink: caller's last sound → the worker's end of speech (WebRTC uplink, jitter buffer and
  Silero's tail: the VAD still hears speech for a few windows after the sound ends);
- worker: the worker's end of speech → its first reply frame leaves (its ``e2e_latency``),
  of which ``commit`` is the end-of-turn wait (``eou_delay``);
- downlink: that frame → the caller's first loud frame (Opus, server, the caller's jitter
  buffer, and the reply's first audible frame).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.e2e.results import percentiles

# a worker turn belongs to the caller's utterance whose last sound came at most this long
# before the worker's end of speech (uplink + VAD tail are ≈0.15 s on a quiet machine)
MAX_UPLINK_S = 1.5


def journal_t0(events: Path) -> float | None:
    """The call's time origin (wall clock) from the recorder's journal, None if absent."""
    from navan_voice.recording.persist import _read_journal  # the recorder's own reader

    for record in _read_journal(events):
        if record.get("kind") == "start" and record.get("t0") is not None:
            return float(record["t0"])
    return None


def split_turns(
    turn_walls: list[tuple[float, float]], worker_turns: list[dict[str, float]]
) -> list[dict[str, float]]:
    """Match each caller turn (last sound, first heard; wall clock) with the worker turn whose
    end of speech (``stopped``, wall clock) came soonest after that last sound, and split it.
    ``worker_turns``: ``stopped``, ``e2e`` (s) and optionally ``commit`` (s). A caller turn with
    no worker turn in reach (its utterance split, a reply from an earlier turn) is left out."""
    out: list[dict[str, float]] = []
    for last_sound, heard in turn_walls:
        candidates = [w for w in worker_turns if 0.0 <= w["stopped"] - last_sound <= MAX_UPLINK_S]
        if not candidates:
            continue
        w = min(candidates, key=lambda c: c["stopped"])
        sent = w["stopped"] + w["e2e"]
        row = {
            "heard": heard - last_sound,
            "uplink": w["stopped"] - last_sound,
            "worker": w["e2e"],
            "downlink": heard - sent,
        }
        if w.get("commit") is not None:
            row["commit"] = w["commit"]
        out.append(row)
    return out


def wait_calls_finalized(factory: Any, wait_s: float = 30.0) -> None:
    """Wait (at most ``wait_s``) until no call in the recording index is still recording: a
    call's row and turns are finalized as its job ends, a moment after the caller hangs up."""
    from navan_voice.recording.index import list_calls

    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if all(c.status != "recording" for c in list_calls(factory, limit=500)):
            return
        time.sleep(0.5)


def worker_turns_of(factory: Any, room: str) -> list[dict[str, float]]:
    """The worker's answered turns of the call in ``room``, dated on the wall clock."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from navan_voice.db.recording_tables import CallRecord

    with factory() as session:
        stmt = (
            select(CallRecord)
            .where(CallRecord.room == room)
            .options(selectinload(CallRecord.turns))
        )
        row = session.scalars(stmt).first()
        if row is None or not row.local_path:
            return []
        t0 = journal_t0(Path(row.local_path).parent / "events.jsonl")
        if t0 is None:
            return []
        return [
            {
                "stopped": t0 + t.at_s,
                "e2e": t.e2e_latency_ms / 1000.0,
                **({} if t.eou_delay_ms is None else {"commit": t.eou_delay_ms / 1000.0}),
            }
            for t in row.turns
            if t.user_text and t.e2e_latency_ms is not None
        ]


def split_calls(database_url: str, calls: list[dict[str, Any]]) -> dict[str, Any]:
    """p50/p95 (s) of each part over every answered turn of ``calls`` (``CallResult.as_dict``)."""
    from navan_voice.db.engine import make_session_factory

    factory = make_session_factory(database_url)  # one engine for every call's rows
    rows: list[dict[str, float]] = []
    for call in calls:
        walls = [tuple(w) for w in call.get("turn_walls") or []]
        if walls:
            rows += split_turns(walls, worker_turns_of(factory, call["room"]))  # type: ignore[arg-type]
    factory.kw["bind"].dispose()
    parts = ("heard", "uplink", "worker", "commit", "downlink")
    return {part: percentiles([r[part] for r in rows if part in r]) for part in parts}
