"""Whole calls with the real travel agents and the offline dialogue engine (no model, no keys).

Each eval plays a caller through livekit's AgentSession and checks what a good agent does:
which tools it calls with which arguments, hand-offs, confirm-before-change, and that every
turn ends with something spoken. The same calls run against a cloud model when its key is set.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from livekit.agents import AgentSession, llm
from livekit.agents.voice.run_result import RunResult

from navan_voice.agents import build_first_agent, prepare_call
from navan_voice.agents.escalation import EscalationAgent
from navan_voice.agents.expenses import ExpensesAgent
from navan_voice.agents.flights import FlightsAgent
from navan_voice.agents.state import CallState
from navan_voice.db.engine import SessionFactory
from navan_voice.db.seed import DEMO_PHONE
from navan_voice.domain.models import Channel, FlightSegment, HotelStay
from navan_voice.services import identity, trips
from navan_voice.speech.dialogue import LocalDialogueLLM, RulesEngine

pytestmark = pytest.mark.evals


def _openai() -> llm.LLM[None]:
    if not os.environ.get("OPENAI_API_KEY"):
        pytest.skip("OPENAI_API_KEY is not set: the cloud eval is skipped")
    from livekit.plugins import openai

    return openai.LLM(model=os.environ.get("NAVAN_LLM_MODEL") or "gpt-4o-mini")


@pytest.fixture(params=["local", "openai"])
def model(request: pytest.FixtureRequest) -> llm.LLM[None]:
    if request.param == "openai":
        return _openai()
    return LocalDialogueLLM(RulesEngine(today=dt.date.today))


@asynccontextmanager
async def call(
    model: llm.LLM[None], state: CallState
) -> AsyncIterator[tuple[AgentSession[CallState], RunResult[None]]]:
    await prepare_call(state)
    async with AgentSession[CallState](llm=model, userdata=state) as session:
        greeting = await session.start(build_first_agent(state), capture_run=True)
        yield session, greeting


def phone(db: SessionFactory) -> CallState:
    return CallState(call_id="eval", db=db, channel=Channel.PHONE, caller_phone=DEMO_PHONE)


def web(db: SessionFactory) -> CallState:
    return CallState(call_id="eval", db=db, channel=Channel.WEB)


def spoken(result: RunResult[None]) -> str:
    """Everything the agent said in one run."""
    return " ".join(
        ev.item.text_content or ""
        for ev in result.events
        if ev.type == "message" and ev.item.role == "assistant"
    )


async def test_phone_caller_changes_a_flight_with_confirmation(
    model: llm.LLM[None], db: SessionFactory
) -> None:
    state = phone(db)
    async with call(model, state) as (session, greeting):
        assert "Navan" in spoken(greeting)
        result = await session.run(user_input="I need to move my flight UA 1542 to a later day")
        result.expect.contains_function_call(name="transfer_to_flights")
        result.expect.contains_agent_handoff(new_agent_type=FlightsAgent)
        result.expect.contains_function_call(name="find_alternative_flights")
        assert "option" in spoken(result).lower()

        result = await session.run(user_input="The first one please")
        result.expect.contains_function_call(name="propose_flight_change", arguments={"option": 1})
        assert state.pending is not None  # read back, nothing changed yet
        assert "?" in spoken(result)

        result = await session.run(user_input="Yes, go ahead")
        result.expect.contains_function_call(name="confirm_change")
        assert state.pending is None
        assert spoken(result)


async def test_web_caller_identifies_then_cancels_after_yes(
    model: llm.LLM[None], db: SessionFactory
) -> None:
    state = web(db)
    async with call(model, state) as (session, greeting):
        assert "confirmation code" in spoken(greeting).lower()
        result = await session.run(
            user_input="Sure, my confirmation code is NVN7Q2 and my last name is Rivera"
        )
        result.expect.contains_function_call(
            name="identify_caller", arguments={"confirmation_code": "NVN7Q2", "last_name": "Rivera"}
        )
        assert state.identified

        result = await session.run(user_input="I want to cancel my flight WN 2210")
        result.expect.contains_agent_handoff(new_agent_type=FlightsAgent)
        result.expect.contains_function_call(name="propose_flight_cancellation")
        assert state.pending is not None and "?" in spoken(result)

        result = await session.run(user_input="no, leave it")
        result.expect.contains_function_call(name="discard_pending_change")
        assert state.pending is None


async def test_unknown_code_is_refused_not_invented(
    model: llm.LLM[None], db: SessionFactory
) -> None:
    async with call(model, web(db)) as (session, _):
        result = await session.run(user_input="my code is ZZZ999 and my last name is Nobody")
        call_ev = result.expect.next_event().is_function_call(name="identify_caller")
        assert call_ev.event().item.name == "identify_caller"
        out = result.expect.next_event().is_function_call_output().event().item
        assert out.is_error
        # the agent says what the service said, nothing more
        assert spoken(result).strip() == out.output.strip()


async def test_policy_question_goes_to_the_policy_specialist(
    model: llm.LLM[None], db: SessionFactory
) -> None:
    async with call(model, phone(db)) as (session, _):
        result = await session.run(user_input="Am I allowed to fly business class to London?")
        result.expect.contains_agent_handoff(new_agent_type=ExpensesAgent)
        result.expect.contains_function_call(name="ask_travel_policy")
        assert spoken(result)


async def test_caller_asks_for_a_person(model: llm.LLM[None], db: SessionFactory) -> None:
    async with call(model, web(db)) as (session, _):
        result = await session.run(user_input="I just want to talk to a real person")
        result.expect.contains_function_call(name="transfer_to_human")
        result.expect.contains_agent_handoff(new_agent_type=EscalationAgent)
        assert "colleague" in spoken(result).lower() or "case" in spoken(result).lower()


async def test_garbled_input_is_answered(model: llm.LLM[None], db: SessionFactory) -> None:
    async with call(model, phone(db)) as (session, _):
        result = await session.run(user_input="[noise] uh")
        text = spoken(result)
        assert text  # never a dead line
        if isinstance(model, LocalDialogueLLM):
            assert "didn't catch" in text


async def test_ambiguous_flight_is_asked_about_then_resolved(
    model: llm.LLM[None], db: SessionFactory
) -> None:
    state = phone(db)  # Alex Rivera has three upcoming flights
    async with call(model, state) as (session, _):
        result = await session.run(user_input="I need to cancel my flight")
        result.expect.contains_agent_handoff(new_agent_type=FlightsAgent)
        assert "?" in spoken(result)  # which one? (from the service, not invented)
        assert state.pending is None

        result = await session.run(user_input="WN 2210")
        result.expect.contains_function_call(
            name="propose_flight_cancellation", arguments={"flight": "WN2210"}
        )
        assert state.pending is not None


async def test_a_flight_named_by_its_city(model: llm.LLM[None], db: SessionFactory) -> None:
    state = phone(db)
    async with call(model, state) as (session, _):
        result = await session.run(user_input="Please cancel my Denver flight")
        result.expect.contains_function_call(name="propose_flight_cancellation")
        assert state.pending is not None and "WN 2210" in spoken(result)


# --- questions a caller asks about their own bookings (the benchmark caller's questions) ----
# The calls below start like the real ones: the greeting is spoken before the caller talks.


def _known_caller(db: SessionFactory, channel: Channel) -> CallState:
    """Alex Rivera calling from the number on the profile: on the phone, or in the browser
    with the number known (what the benchmark caller does)."""
    return CallState(call_id="eval", db=db, channel=channel, caller_phone=DEMO_PHONE)


def _called(result: RunResult[None]) -> list[str]:
    return [ev.item.name for ev in result.events if ev.type == "function_call"]


def _alex_bookings(db: SessionFactory) -> tuple[FlightSegment, HotelStay]:
    found = identity.identify_by_phone(db=db, phone=DEMO_PHONE)
    assert found is not None
    outbound = trips.resolve_segment(db=db, traveler_id=found.id, reference="UA 1542")
    stay = trips.resolve_hotel(db=db, traveler_id=found.id, reference="New York")
    return outbound, stay


@pytest.mark.parametrize("channel", [Channel.PHONE, Channel.WEB])
async def test_booking_questions_are_answered_from_the_tools(
    model: llm.LLM[None], db: SessionFactory, channel: Channel
) -> None:
    outbound, stay = _alex_bookings(db)
    state = _known_caller(db, channel)
    async with call(model, state) as (session, _):
        # the flight TO New York (JFK), not both flights touching JFK
        result = await session.run(user_input="When does my flight to new york leave")
        result.expect.contains_agent_handoff(new_agent_type=FlightsAgent)
        result.expect.contains_function_call(name="flight_details")
        said = spoken(result)
        assert "UA 1542" in said and "UA 1543" not in said, said
        assert f"{outbound.departure_local:%B %-d at %-I:%M %p}" in said, said
        assert "which one" not in said.lower()
        assert state.pending is None  # a question about a flight prepares no cancellation

        result = await session.run(user_input="What hotel am I staying at in New York?")
        result.expect.contains_function_call(name="list_hotel_stays")
        said = spoken(result)
        assert stay.hotel_name in said and f"{stay.check_in:%B %-d}" in said, said
        assert f"{stay.check_out:%B %-d}" in said

        result = await session.run(user_input="What is the cancellation policy")
        result.expect.contains_function_call(name="cancellation_terms")
        said = spoken(result)
        # the fare rules of the trip being discussed, from the service; nothing cancelled
        assert "UA 1542" in said and "travel credit" in said and "not refundable" in said, said
        assert stay.hotel_name in said
        assert not [n for n in _called(result) if n.startswith("propose_")]
        assert state.pending is None


@pytest.mark.parametrize("channel", [Channel.PHONE, Channel.WEB])
async def test_garbled_words_about_a_stay_ask_for_no_new_dates(
    model: llm.LLM[None], db: SessionFactory, channel: Channel
) -> None:
    state = _known_caller(db, channel)
    async with call(model, state) as (session, _):
        result = await session.run(user_input="I hope tell them I stay in that in the yard.")
        said = spoken(result).lower()
        assert "check-in" not in said and "check-out" not in said, said
        assert "propose_hotel_dates" not in _called(result)
        assert state.pending is None
