"""A slow service (a locked or slow database) fills the silence with "one moment", and the
turn still ends with the service's answer; a fast one says nothing extra."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from livekit.agents import AgentSession
from tests.unit.agents.test_conversations import phone_state, segment_row

from navan_voice.agents import build_first_agent, prepare_call
from navan_voice.agents.state import CallState
from navan_voice.db.engine import SessionFactory
from navan_voice.services import flights, trips
from navan_voice.speech.dialogue import LocalDialogueLLM, RulesEngine
from navan_voice.tools import _call

pytestmark = pytest.mark.unit


def slowed(fn: Callable[..., Any], seconds: float) -> Callable[..., Any]:
    """``fn`` behind a wait, as a database waiting on a lock would be."""

    def slow(**kwargs: Any) -> Any:
        time.sleep(seconds)
        return fn(**kwargs)

    slow.__name__ = fn.__name__
    return slow


async def said_in_call(state: CallState, *turns: str) -> tuple[list[str], list[str]]:
    """The lines the agent said with ``session.say`` (fillers) and its replies in the
    conversation, over the caller's ``turns``, with the offline rules engine."""
    await prepare_call(state)
    said: list[str] = []
    replies: list[str] = []
    async with AgentSession[CallState](
        llm=LocalDialogueLLM(RulesEngine()), userdata=state
    ) as session:
        say = session.say

        def spy(text: Any, **kwargs: Any) -> Any:
            said.append(str(text))
            return say(text, **kwargs)

        session.say = spy  # type: ignore[method-assign]
        await session.start(build_first_agent(state))
        for words in turns:
            result = await session.run(user_input=words)
            replies += [
                ev.item.text_content or ""  # type: ignore[union-attr]
                for ev in result.events
                if ev.type == "message"
            ]
    return said, replies


async def test_a_slow_lookup_says_one_moment_then_answers(
    db: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_call, "HOLD_AFTER_S", 0.3)
    monkeypatch.setattr(trips, "list_upcoming_trips", slowed(trips.list_upcoming_trips, 1.2))
    state = phone_state(db)
    said, replies = await said_in_call(state, "What trips do I have coming up?")
    assert _call.HOLD_ON[0] in said
    assert _call.HOLD_ON[1] not in said, "the second line came before its interval"
    assert any("upcoming trips" in r for r in replies), replies
    assert state.tags["held_on"] == "1"


async def test_a_change_stuck_on_the_database_says_so_twice_and_is_still_made(
    db: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller's yes waits on a slow write: two lines of holding on, never a third, and
    the change goes through (nothing is given up on while the write may still land)."""
    monkeypatch.setattr(_call, "HOLD_AFTER_S", 0.3)
    monkeypatch.setattr(_call, "HOLD_AGAIN_AFTER_S", 0.4)
    monkeypatch.setattr(flights, "change_flight", slowed(flights.change_flight, 3.0))
    state = phone_state(db)
    said, replies = await said_in_call(
        state, "I need to change my flight UA 1542", "The second one", "Yes"
    )
    assert [s for s in said if s in _call.HOLD_ON] == list(_call.HOLD_ON)
    assert segment_row(db, "UA 1542") is None, "the booked flight was not moved"
    assert state.pending is None
    assert replies[-1].startswith("Done. You're now on UA 1544"), replies


async def test_a_fast_service_says_nothing_extra(db: SessionFactory) -> None:
    state = phone_state(db)
    said, replies = await said_in_call(state, "What trips do I have coming up?")
    assert not [s for s in said if s in _call.HOLD_ON]
    assert any("upcoming trips" in r for r in replies)
    assert "held_on" not in state.tags


async def test_a_slow_service_outside_a_tool_call_runs_without_a_filler() -> None:
    """Start-of-call lookups and the look-ahead have no tool call to speak on."""
    assert await _call.off_loop(slowed(lambda x: x + 1, 0.01), x=1) == 2


async def test_reads_each_quick_but_slow_together_still_say_one_moment(
    db: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The "one moment" is due 1.5 s into the tool call, not into each of its reads."""
    monkeypatch.setattr(_call, "HOLD_AFTER_S", 0.5)
    monkeypatch.setattr(trips, "resolve_segment", slowed(trips.resolve_segment, 0.35))
    monkeypatch.setattr(flights, "find_alternatives", slowed(flights.find_alternatives, 0.35))
    state = phone_state(db)
    said, replies = await said_in_call(state, "I need to change my flight UA 1542")
    assert said.count(_call.HOLD_ON[0]) == 1, said
    assert any("options" in r for r in replies), replies


async def test_a_slow_turn_after_a_slow_turn_is_held_on_too(
    db: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pause between lines spans tool calls, but never silences the next tool call."""
    monkeypatch.setattr(_call, "HOLD_AFTER_S", 0.3)
    monkeypatch.setattr(_call, "HOLD_AGAIN_AFTER_S", 0.6)
    monkeypatch.setattr(trips, "list_upcoming_trips", slowed(trips.list_upcoming_trips, 1.2))
    state = phone_state(db)
    said, _ = await said_in_call(
        state, "What trips do I have coming up?", "Can you read me my trips again?"
    )
    assert said.count(_call.HOLD_ON[0]) == 2, said
