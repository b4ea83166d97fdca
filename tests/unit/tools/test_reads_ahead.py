"""The reads the look-ahead keeps for the real turn: taken once, dropped on a miss, too old
or by the next look-ahead; a failed read fails the same way for the turn that takes it."""

from __future__ import annotations

import asyncio

import pytest

from navan_voice.domain.errors import DomainError
from navan_voice.tools.reads_ahead import ReadsAhead

pytestmark = pytest.mark.unit


def lookup(**kwargs: object) -> str:
    return f"found {kwargs}"


async def value(v: str) -> str:
    return v


async def test_a_kept_read_is_taken_once() -> None:
    reads = ReadsAhead()
    key = reads.key(lookup, {"traveler_id": 7, "reference": "UA 1542"})
    await reads.start(key, value("ahead"))
    kept = reads.take(ReadsAhead.key(lookup, {"reference": "UA 1542", "traveler_id": 7}))
    assert kept is not None and await kept == "ahead"
    assert reads.taken == 1
    assert reads.take(key) is None  # the next turn reads for itself


async def test_a_read_nobody_kept_drops_the_others() -> None:
    reads = ReadsAhead()
    await reads.start(reads.key(lookup, {"traveler_id": 7}), value("a"))
    await reads.start(reads.key(lookup, {"traveler_id": 8}), value("b"))
    # the turn asked something the look-ahead did not: its other reads are not trusted
    assert reads.take(reads.key(lookup, {"traveler_id": 9})) is None
    assert len(reads) == 0 and reads.taken == 0


async def test_an_old_read_is_not_used() -> None:
    now = [100.0]
    reads = ReadsAhead(ttl_s=3.0, clock=lambda: now[0])
    key = reads.key(lookup, {"traveler_id": 7})
    await reads.start(key, value("old"))
    now[0] += 3.5
    assert reads.take(key) is None


async def test_a_read_still_running_is_taken_and_a_failed_one_fails_alike() -> None:
    reads = ReadsAhead()
    gate = asyncio.Event()

    async def slow() -> str:
        await gate.wait()
        return "late"

    async def failing() -> str:
        raise DomainError("No flight UA 9 on your trips.")

    reads.start(reads.key(lookup, {"n": 1}), slow())
    reads.start(reads.key(lookup, {"n": 2}), failing())
    kept = reads.take(reads.key(lookup, {"n": 1}))
    assert kept is not None
    gate.set()
    assert await kept == "late"
    failed = reads.take(reads.key(lookup, {"n": 2}))
    assert failed is not None
    with pytest.raises(DomainError, match="UA 9"):
        await failed


async def test_switched_off_a_read_runs_but_is_not_kept() -> None:
    reads = ReadsAhead(enabled=False)  # NAVAN_LOOKAHEAD_READS=false
    key = reads.key(lookup, {"traveler_id": 7})
    assert await reads.start(key, value("ahead")) == "ahead"
    assert reads.take(key) is None
