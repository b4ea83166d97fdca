"""A caller identified as one traveler gives another traveler's code and last name."""

from __future__ import annotations

import pytest
from tests.fakes.scripted_llm import call
from tests.unit.agents.test_conversations import conversation, phone_state

from navan_voice.db.engine import SessionFactory
from navan_voice.services import flights, trips
from navan_voice.tools.state import PendingChange

pytestmark = pytest.mark.unit


async def test_switching_traveler_carries_nothing_of_the_first_over(db: SessionFactory) -> None:
    state = phone_state(db)
    switch = call("identify_caller", confirmation_code="NVB2R7", last_name="Shah")
    async with conversation(state, [switch]) as (session, _):
        assert state.traveler_name == "Alex Rivera"  # by the calling number
        alex = state.traveler_id
        # Alex had a change of UA 1542 read back, not yet confirmed
        seg = trips.resolve_segment(db=db, traveler_id=alex, reference="UA 1542")
        options = flights.find_alternatives(db=db, traveler_id=alex, segment_id=seg.id)
        quote = flights.quote_flight_change(
            db=db, traveler_id=alex, segment_id=seg.id, option_id=options[0].id
        )
        state.options, state.current_segment_id = options, seg.id
        state.current_trip_code = "NVN7Q2"
        state.pending = PendingChange(quote, "To confirm: ... Shall I go ahead?")
        result = await session.run(user_input="I'm calling for Priya Shah, her code is NVB2R7")
        result.expect.next_event().is_function_call(name="identify_caller")
        out = result.expect.next_event().is_function_call_output().event().item
        assert "Priya Shah's trips, not Alex Rivera's" in out.output
    assert state.traveler_name == "Priya Shah" and state.traveler_id != alex
    assert state.pending is None and state.options == [] and state.current_segment_id is None
    assert state.current_trip_code == "NVB2R7"
    assert state.tags["switched_traveler"] == "Alex Rivera -> Priya Shah"
    assert any(n.startswith("Not confirmed, dropped") for n in state.notes)
    # the agent's instructions (who the caller is) follow the switch
    assert "identified: Priya Shah" in session.current_agent.instructions
    assert "Alex Rivera" not in session.current_agent.instructions


async def test_the_same_traveler_again_is_no_switch(db: SessionFactory) -> None:
    state = phone_state(db)
    again = call("identify_caller", confirmation_code="NVN7Q2", last_name="Rivera")
    async with conversation(state, [again]) as (session, _):
        state.current_segment_id = 1
        await session.run(user_input="My code is NVN7Q2, Rivera")
    assert "switched_traveler" not in state.tags and state.current_segment_id == 1


async def test_a_specialist_switches_traveler_too(db: SessionFactory) -> None:
    """With the offline rules engine: on the flights agent, the caller turns to a colleague's
    trip; the switch happens there, without going back to the greeter."""
    from tests.unit.agents.test_conversations import rules_engine_call

    state = phone_state(db)
    called = await rules_engine_call(
        state,
        "I need to change my flight UA 1542",
        "Actually I'm calling for my colleague, her code is NVB2R7 and her last name is Shah",
    )
    assert state.agents_visited[-1] == "FlightsAgent"
    assert called[1][:1] == ["identify_caller"], called
    assert state.traveler_name == "Priya Shah"
    assert state.tags["switched_traveler"] == "Alex Rivera -> Priya Shah"
