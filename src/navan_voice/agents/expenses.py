"""The expenses and travel-policy specialist."""

from __future__ import annotations

from livekit.agents.llm import ChatContext

from navan_voice.agents.base import NavanAgent
from navan_voice.agents.handoffs import transfer_to_flights, transfer_to_hotels, transfer_to_human
from navan_voice.tools.expenses import ask_travel_policy, expense_status
from navan_voice.tools.identity import identify_caller
from navan_voice.tools.state import CallState
from navan_voice.tools.trips import cancellation_terms


class ExpensesAgent(NavanAgent):
    prompt = "expenses"

    def __init__(self, state: CallState, *, chat_ctx: ChatContext | None = None) -> None:
        super().__init__(
            state,
            tools=[
                identify_caller,  # a caller may switch traveler here too
                expense_status,
                ask_travel_policy,
                cancellation_terms,
                transfer_to_flights,
                transfer_to_hotels,
                transfer_to_human,
            ],
            chat_ctx=chat_ctx,
        )
