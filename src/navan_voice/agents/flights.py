"""The flights specialist: alternatives, changes and cancellations, each confirmed first."""

from __future__ import annotations

from livekit.agents.llm import ChatContext

from navan_voice.agents.base import NavanAgent
from navan_voice.agents.handoffs import transfer_to_expenses, transfer_to_hotels, transfer_to_human
from navan_voice.tools.changes import confirm_change, discard_pending_change
from navan_voice.tools.flights import (
    find_alternative_flights,
    flight_details,
    manager_decision_status,
    propose_flight_cancellation,
    propose_flight_change,
)
from navan_voice.tools.identity import identify_caller
from navan_voice.tools.state import CallState
from navan_voice.tools.trips import cancellation_terms, list_upcoming_trips


class FlightsAgent(NavanAgent):
    prompt = "flights"

    def __init__(self, state: CallState, *, chat_ctx: ChatContext | None = None) -> None:
        super().__init__(
            state,
            tools=[
                identify_caller,  # a caller may switch traveler here too
                list_upcoming_trips,
                flight_details,
                cancellation_terms,
                find_alternative_flights,
                propose_flight_change,
                propose_flight_cancellation,
                manager_decision_status,
                confirm_change,
                discard_pending_change,
                transfer_to_hotels,
                transfer_to_expenses,
                transfer_to_human,
            ],
            chat_ctx=chat_ctx,
        )
