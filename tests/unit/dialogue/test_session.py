"""The engine drives livekit's AgentSession like a cloud model would."""

from __future__ import annotations

import time

import pytest
from livekit.agents import AgentSession

from navan_voice.speech.dialogue import Decision, LocalDialogueLLM

from .travel_agents import CallState, FlightsAgent, GreeterAgent

pytestmark = pytest.mark.unit


async def test_identify_then_hand_off_and_change(session: AgentSession) -> None:
    state = CallState()
    await session.start(GreeterAgent(state))

    result = await session.run(user_input="Hi, my code is NVN7Q2 and my last name is Smith")
    result.expect.next_event().is_function_call(
        name="identify_caller", arguments={"confirmation_code": "NVN7Q2", "last_name": "Smith"}
    )
    result.expect.next_event().is_function_call_output()
    result.expect.next_event().is_message(role="assistant")

    result = await session.run(user_input="I need to change my flight")
    result.expect.next_event().is_function_call(name="transfer_to_flights")
    result.expect.next_event().is_function_call_output()
    result.expect.next_event().is_agent_handoff(new_agent_type=FlightsAgent)

    result = await session.run(user_input="Can I move it to next Tuesday?")
    result.expect.next_event().is_function_call(
        name="find_alternative_flights", arguments={"date": "2026-05-05"}
    )
    result.expect.next_event().is_function_call_output()
    result.expect.next_event().is_message(role="assistant")

    result = await session.run(user_input="The second one please")
    result.expect.next_event().is_function_call(
        name="propose_flight_change", arguments={"option": 2}
    )
    result.expect.next_event().is_function_call_output()
    msg = result.expect.next_event().is_message(role="assistant")
    assert "Shall I make the change?" in (msg.event().item.text_content or "")

    result = await session.run(user_input="Yes, go ahead")
    result.expect.next_event().is_function_call(name="confirm_flight_change")
    assert ("confirm_flight_change", {}) in state.calls


async def test_greeting_on_start(session: AgentSession) -> None:
    result = await session.start(GreeterAgent(CallState()), capture_run=True)
    result.expect.next_event().is_agent_handoff(new_agent_type=GreeterAgent)
    msg = result.expect.next_event().is_message(role="assistant")
    assert "Navan" in (msg.event().item.text_content or "")


async def test_garbled_input_gets_a_retry_prompt(session: AgentSession) -> None:
    await session.start(GreeterAgent(CallState()))
    result = await session.run(user_input="uh mm")
    msg = result.expect.next_event().is_message(role="assistant")
    assert "didn't catch" in (msg.event().item.text_content or "")


async def test_human_request(session: AgentSession) -> None:
    await session.start(GreeterAgent(CallState()))
    result = await session.run(user_input="Can I talk to a real person please")
    result.expect.next_event().is_function_call(name="transfer_to_human")


class _Broken:
    """An engine that fails in the two ways a model can: raising, or never answering."""

    name = "broken"

    def __init__(self, *, hang: bool) -> None:
        self._hang = hang

    def decide(self, conv: object, specs: object, *, tool_choice: str | None = None) -> Decision:
        if self._hang:
            time.sleep(0.5)
            return Decision(text="too late")
        raise RuntimeError("engine bug")


@pytest.mark.parametrize("hang", [False, True])
async def test_a_failing_engine_still_answers(hang: bool) -> None:
    llm = LocalDialogueLLM(_Broken(hang=hang), blocking=True, timeout_s=0.1)
    async with AgentSession(llm=llm) as session:
        await session.start(GreeterAgent(CallState()))
        result = await session.run(user_input="I need to change my flight")
        msg = result.expect.next_event().is_message(role="assistant")
        assert "say that again" in (msg.event().item.text_content or "")


async def test_specialist_acts_on_the_request_that_led_to_the_hand_off(
    session: AgentSession,
) -> None:
    state = CallState()
    await session.start(GreeterAgent(state))
    await session.run(user_input="my code is NVN7Q2 and my last name is Smith")
    result = await session.run(user_input="what trips do I have coming up")
    result.expect.next_event().is_function_call(name="transfer_to_flights")
    result.expect.next_event().is_function_call_output()
    result.expect.next_event().is_agent_handoff(new_agent_type=FlightsAgent)
    result.expect.next_event().is_function_call(name="list_upcoming_trips")


async def test_no_to_a_read_back_changes_nothing(session: AgentSession) -> None:
    state = CallState(pending_option=None)
    await session.start(FlightsAgent(state))
    await session.run(user_input="move my flight to May 12")
    await session.run(user_input="option 1")
    result = await session.run(user_input="no, leave it")
    msg = result.expect.next_event().is_message(role="assistant")
    assert "won't" in (msg.event().item.text_content or "")
    assert all(name != "confirm_flight_change" for name, _ in state.calls)


async def test_unclear_speech_twice_offers_a_colleague_and_yes_hands_over(
    session: AgentSession,
) -> None:
    from navan_voice.speech.unclear import UNCLEAR

    state = CallState()
    await session.start(GreeterAgent(state))
    result = await session.run(user_input=UNCLEAR)
    msg = result.expect.next_event().is_message(role="assistant")
    assert "didn't catch" in (msg.event().item.text_content or "")
    result = await session.run(user_input=UNCLEAR)
    msg = result.expect.next_event().is_message(role="assistant")
    said = msg.event().item.text_content or ""
    assert "only help in English" in said and "colleague" in said
    result = await session.run(user_input="Yes please")
    result.expect.next_event().is_function_call(name="transfer_to_human")
    assert ("transfer_to_human", {}) in state.calls


async def test_no_to_the_colleague_offer_asks_what_else(session: AgentSession) -> None:
    from navan_voice.speech.unclear import UNCLEAR

    state = CallState()
    await session.start(GreeterAgent(state))
    await session.run(user_input=UNCLEAR)
    await session.run(user_input=UNCLEAR)
    result = await session.run(user_input="No")
    msg = result.expect.next_event().is_message(role="assistant")
    assert "What can I help you with" in (msg.event().item.text_content or "")
    assert not state.calls
