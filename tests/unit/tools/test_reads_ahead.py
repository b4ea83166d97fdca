"""The reads the look-ahead keeps for the real turn: taken once, dropped on a miss, too old
or by the next look-ahead; a failed read fails the same way for the turn that takes it; a read
the look-ahead gave up on is made again by the real turn."""

from __future__ import annotations

import asyncio

import pytest

from navan_voice.domain.errors import DomainError
from navan_voice.tools.reads_ahead import ReadsAhead

pytestmark = pytest.mark.unit


def lookup(**kwargs: object) -> str:
    return f"found {kwargs}"


class Database:
    """Counts the reads that reached it."""

    def __init__(self) -> None:
        self.reads = 0

    async def read(self, answer: str = "from the database") -> str:
        self.reads += 1
        return answer


async def test_a_kept_read_is_taken_once() -> None:
    reads, db = ReadsAhead(), Database()
    key = reads.key(lookup, {"traveler_id": 7, "reference": "UA 1542"})
    assert await reads.ahead(key, db.read("ahead")) == "ahead"
    same = ReadsAhead.key(lookup, {"reference": "UA 1542", "traveler_id": 7})
    assert await reads.behind(same, db.read) == "ahead"
    assert db.reads == 1 and reads.taken == 1
    assert await reads.behind(key, db.read) == "from the database"  # the next turn reads


async def test_a_read_nobody_kept_drops_the_others() -> None:
    reads, db = ReadsAhead(), Database()
    await reads.ahead(reads.key(lookup, {"traveler_id": 7}), db.read("a"))
    await reads.ahead(reads.key(lookup, {"traveler_id": 8}), db.read("b"))
    # the turn asked something the look-ahead did not: its other reads are not trusted
    await reads.behind(reads.key(lookup, {"traveler_id": 9}), db.read)
    assert len(reads) == 0 and reads.taken == 0
    assert await reads.behind(reads.key(lookup, {"traveler_id": 8}), db.read) == (
        "from the database"
    )


async def test_an_old_read_is_not_used() -> None:
    now = [100.0]
    reads, db = ReadsAhead(ttl_s=3.0, clock=lambda: now[0]), Database()
    key = reads.key(lookup, {"traveler_id": 7})
    await reads.ahead(key, db.read("old"))
    now[0] += 3.5
    assert await reads.behind(key, db.read) == "from the database"


async def test_a_read_still_running_is_awaited_and_a_failed_one_fails_alike() -> None:
    reads, db = ReadsAhead(), Database()
    gate = asyncio.Event()

    async def slow() -> str:
        await gate.wait()
        return "late"

    async def failing() -> str:
        raise DomainError("No flight UA 9 on your trips.")

    slow_key, failing_key = reads.key(lookup, {"n": 1}), reads.key(lookup, {"n": 2})
    ahead = asyncio.create_task(reads.ahead(slow_key, slow()))
    await asyncio.sleep(0)  # the look-ahead is reading
    behind = asyncio.create_task(reads.behind(slow_key, db.read))
    await asyncio.sleep(0)
    gate.set()
    assert await behind == "late" and await ahead == "late"
    with pytest.raises(DomainError):
        await reads.ahead(failing_key, failing())
    with pytest.raises(DomainError, match="UA 9"):
        await reads.behind(failing_key, db.read)
    assert db.reads == 0


async def test_a_read_the_look_ahead_gave_up_on_is_made_by_the_real_turn() -> None:
    reads, db = ReadsAhead(), Database()
    key = reads.key(lookup, {"traveler_id": 7})
    ahead = asyncio.create_task(reads.ahead(key, asyncio.Event().wait()))
    await asyncio.sleep(0)
    behind = asyncio.create_task(reads.behind(key, db.read))
    await asyncio.sleep(0)
    ahead.cancel()  # the caller went on talking: a new look-ahead replaces this one
    assert await behind == "from the database" and db.reads == 1


async def test_switched_off_a_read_runs_but_is_not_kept() -> None:
    reads, db = ReadsAhead(enabled=False), Database()  # NAVAN_LOOKAHEAD_READS=false
    key = reads.key(lookup, {"traveler_id": 7})
    assert await reads.ahead(key, db.read("ahead")) == "ahead"
    assert await reads.behind(key, db.read) == "from the database"
