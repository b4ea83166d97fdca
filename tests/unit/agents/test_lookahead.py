"""The look-ahead: a turn played through on a copy of the call state, with the real rules engine
over a seeded database. What it predicts is what the real turn then says; it never acts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from livekit.agents import AgentSession, llm
from livekit.agents.voice.events import ConversationItemAddedEvent, UserInputTranscribedEvent
from sqlalchemy import select

from navan_voice.agents import build_first_agent, prepare_call
from navan_voice.agents.flights import FlightsAgent
from navan_voice.agents.handoffs import SPECIALIST_HANDOFFS
from navan_voice.agents.lookahead import Lookahead, Prediction
from navan_voice.agents.state import CallState
from navan_voice.db import tables as t
from navan_voice.db.engine import SessionFactory, transaction
from navan_voice.db.seed import DEMO_PHONE
from navan_voice.domain.models import Channel, SegmentStatus
from navan_voice.speech.dialogue import LocalDialogueLLM, RulesEngine
from navan_voice.tools import READ_ONLY_TOOLS

pytestmark = pytest.mark.unit


class Rendered:
    """A TTS stand-in that keeps the replies it was asked to render ahead."""

    def __init__(self) -> None:
        self.replies: list[str] = []
        self.ahead_rendered = self.ahead_spoken = self.ahead_late = 0

    def prerender(self, chunks: Iterable[str]) -> None:
        self.replies.append("".join(chunks).strip())
        self.ahead_rendered += 1


@asynccontextmanager
async def phone_call(
    db: SessionFactory,
) -> AsyncIterator[tuple[AgentSession[CallState], CallState, Lookahead, Rendered]]:
    state = CallState(call_id="test-call", db=db, channel=Channel.PHONE, caller_phone=DEMO_PHONE)
    await prepare_call(state)
    model = LocalDialogueLLM(RulesEngine())
    rendered = Rendered()
    async with AgentSession[CallState](llm=model, userdata=state) as session:
        await session.start(build_first_agent(state))
        ahead = Lookahead(
            session, model, rendered, read_only=READ_ONLY_TOOLS, handoffs=SPECIALIST_HANDOFFS
        )
        yield session, state, ahead, rendered


def call_facts(state: CallState) -> tuple[Any, ...]:
    return (
        list(state.agents_visited),
        state.current_segment_id,
        state.current_trip_code,
        state.current_hotel_id,
        list(state.options),
        state.pending,
        list(state.notes),
    )


def segment_confirmed(db: SessionFactory, flight_number: str) -> bool:
    with transaction(db) as s:
        row = s.scalars(
            select(t.FlightSegment).where(t.FlightSegment.flight_number == flight_number)
        ).first()
        return row is not None and row.status == SegmentStatus.CONFIRMED


def last_reply(result: Any) -> str:
    said = [
        e.item.text_content
        for e in result.events
        if isinstance(e.item, llm.ChatMessage) and e.item.role == "assistant"
    ]
    assert said, "the agent said nothing"
    return str(said[-1]).strip()


async def test_a_lookup_behind_a_handoff_is_predicted_word_for_word(db: SessionFactory) -> None:
    async with phone_call(db) as (session, state, ahead, _):
        before = call_facts(state)
        predicted = await ahead.play_ahead("When does my flight to New York leave?")
        assert predicted is not None and predicted.after_tools
        # the copy of the state went to the flights agent and looked the flight up; the call not
        assert call_facts(state) == before
        result = await session.run(user_input="When does my flight to New York leave?")
        result.expect.contains_agent_handoff(new_agent_type=FlightsAgent)
        result.expect.contains_function_call(name="flight_details")
        reply = last_reply(result)
        assert "1542" in reply
        assert "".join(predicted.chunks).strip() == reply


async def test_a_read_back_is_predicted_and_the_yes_is_not_played_ahead(
    db: SessionFactory,
) -> None:
    async with phone_call(db) as (session, state, ahead, _):
        # a proposed cancellation is a quote held in the call state: played ahead on the copy
        predicted = await ahead.play_ahead("Please cancel my flight UA 1542.")
        assert predicted is not None and state.pending is None
        result = await session.run(user_input="Please cancel my flight UA 1542.")
        result.expect.contains_function_call(name="propose_flight_cancellation")
        assert "".join(predicted.chunks).strip() == last_reply(result)
        assert state.pending is not None
        # the caller's yes would cancel it (a write): never run ahead
        before = call_facts(state)
        assert await ahead.play_ahead("Yes, please cancel it.") is None
        assert call_facts(state) == before
        assert segment_confirmed(db, "UA 1542")


async def test_a_reply_without_tools_is_predicted(db: SessionFactory) -> None:
    async with phone_call(db) as (session, _, ahead, _):
        predicted = await ahead.play_ahead("Thank you, that's all.")
        assert predicted is not None and not predicted.after_tools
        result = await session.run(user_input="Thank you, that's all.")
        assert "".join(predicted.chunks).strip() == last_reply(result)


class Heard(Lookahead):
    """Keeps the transcripts it is asked to play ahead instead of playing them; its reply
    follows a tool unless the caller only says thanks."""

    heard: list[str]

    async def play_ahead(self, transcript: str) -> Prediction | None:
        self.heard.append(transcript)
        return Prediction([f"Heard {transcript}"], after_tools="Thanks" not in transcript)


async def test_each_final_transcript_renders_the_turn_so_far(db: SessionFactory) -> None:
    async with phone_call(db) as (session, _, _, rendered):
        ahead = Heard(
            session,
            LocalDialogueLLM(RulesEngine()),
            rendered,
            read_only=READ_ONLY_TOOLS,
            handoffs=SPECIALIST_HANDOFFS,
        )
        ahead.heard = []
        ahead.attach()

        async def final(text: str, *, is_final: bool = True) -> None:
            session.emit(
                "user_input_transcribed",
                UserInputTranscribedEvent(transcript=text, is_final=is_final),
            )
            await asyncio.sleep(0.05)  # the look-ahead it started runs

        await final("Can I move my Denver flight", is_final=False)  # an interim: nothing
        await final("Can I move my Denver flight")
        await final("to next Tuesday?")  # the same turn: its finals together
        session.emit(
            "conversation_item_added",
            ConversationItemAddedEvent(
                item=llm.ChatMessage(role="user", content=["Can I move ... Tuesday?"])
            ),
        )
        await final("Thanks.")  # a new turn
        assert ahead.heard == [
            "Can I move my Denver flight",
            "Can I move my Denver flight to next Tuesday?",
            "Thanks.",
        ]
        # a reply with no tool before it is left to livekit's preemptive synthesis
        assert rendered.replies == [
            "Heard Can I move my Denver flight",
            "Heard Can I move my Denver flight to next Tuesday?",
        ]


async def test_a_preflight_is_played_ahead_and_its_final_not_again(db: SessionFactory) -> None:
    async with phone_call(db) as (session, _, _, rendered):
        ahead = Heard(
            session,
            LocalDialogueLLM(RulesEngine()),
            rendered,
            read_only=READ_ONLY_TOOLS,
            handoffs=SPECIALIST_HANDOFFS,
        )
        ahead.heard = []
        ahead.attach()

        async def heard(text: str, *, preflight: bool) -> None:
            if preflight:
                ahead.on_preflight(text)
            else:
                session.emit(
                    "user_input_transcribed",
                    UserInputTranscribedEvent(transcript=text, is_final=True),
                )
            await asyncio.sleep(0.05)  # the look-ahead it started runs

        await heard("Can I move my Denver flight", preflight=True)  # the caller pauses
        await heard("Can I move my Denver flight to next Tuesday?", preflight=True)  # goes on
        await heard("Can I move my Denver flight to next Tuesday?", preflight=False)  # final
        session.emit(
            "conversation_item_added",
            ConversationItemAddedEvent(
                item=llm.ChatMessage(role="user", content=["Can I move ... Tuesday?"])
            ),
        )
        await heard("Yes.", preflight=True)  # the next turn, preflight then final
        await heard("Yes.", preflight=False)
        session.emit(
            "conversation_item_added",
            ConversationItemAddedEvent(item=llm.ChatMessage(role="user", content=["Yes."])),
        )
        await heard("Yes.", preflight=False)  # the same words in a new turn are played again
        assert ahead.heard == [
            "Can I move my Denver flight",
            "Can I move my Denver flight to next Tuesday?",
            "Yes.",
            "Yes.",
        ]


def test_what_may_run_ahead_names_real_tools_and_nothing_that_writes(db: SessionFactory) -> None:
    from navan_voice.agents.escalation import EscalationAgent
    from navan_voice.agents.expenses import ExpensesAgent
    from navan_voice.agents.greeter import GreeterAgent
    from navan_voice.agents.hotels import HotelsAgent

    state = CallState(call_id="test-call", db=db)
    agents = [
        GreeterAgent(state),
        FlightsAgent(state),
        HotelsAgent(state),
        ExpensesAgent(state),
        EscalationAgent(state, reason="test"),
    ]
    names = {name for a in agents for name in llm.ToolContext(a.tools).function_tools}
    # a renamed tool would silently fall out of the look-ahead
    assert names >= READ_ONLY_TOOLS | SPECIALIST_HANDOFFS
    writes = {"confirm_change", "open_support_case", "transfer_to_human", "discard_pending_change"}
    assert writes <= names
    assert not writes & (READ_ONLY_TOOLS | SPECIALIST_HANDOFFS)


class Counted:
    """Counts the calls a service function gets (the tools look services up at call time)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
        self.calls = 0
        real = getattr(module, name)

        def counted(**kwargs: Any) -> Any:
            self.calls += 1
            return real(**kwargs)

        monkeypatch.setattr(module, name, counted)


async def test_the_real_turn_takes_the_reads_the_look_ahead_made(
    db: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from navan_voice.services import trips

    resolve = Counted(monkeypatch, trips, "resolve_segment")
    details = Counted(monkeypatch, trips, "get_segment")
    async with phone_call(db) as (session, state, ahead, _):
        predicted = await ahead.play_ahead("When does my flight to New York leave?")
        assert predicted is not None
        assert (resolve.calls, details.calls) == (1, 1)
        result = await session.run(user_input="When does my flight to New York leave?")
        result.expect.contains_function_call(name="flight_details")
        # the same answer, without asking the database again
        assert "".join(predicted.chunks).strip() == last_reply(result)
        assert (resolve.calls, details.calls) == (1, 1)
        assert state.reads_ahead.taken == 2 and len(state.reads_ahead) == 0


async def test_a_turn_that_went_another_way_reads_the_database_itself(
    db: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from navan_voice.services import trips

    resolve = Counted(monkeypatch, trips, "resolve_segment")
    async with phone_call(db) as (session, state, ahead, _):
        await ahead.play_ahead("When does my flight to Denver leave?")
        assert resolve.calls == 1 and len(state.reads_ahead) > 0
        # the caller said something else: the real turn asks for its own flight, and the
        # look-ahead's reads are dropped rather than kept for a later turn
        result = await session.run(user_input="When does my flight to New York leave?")
        assert "1542" in last_reply(result)
        assert resolve.calls == 2 and len(state.reads_ahead) == 0
        assert state.reads_ahead.taken == 0
        # a new look-ahead starts with nothing kept from the last one
        await ahead.play_ahead("When does my flight to Denver leave?")
        await ahead.play_ahead("Which trips do I have coming up?")
        result = await session.run(user_input="When does my flight to Denver leave?")
        assert resolve.calls == 4  # Denver read ahead, then read again by the real turn
