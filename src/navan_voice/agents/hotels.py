"""The hotels and cars specialist."""

from __future__ import annotations

from livekit.agents.llm import ChatContext

from navan_voice.agents.base import NavanAgent
from navan_voice.agents.handoffs import transfer_to_expenses, transfer_to_flights, transfer_to_human
from navan_voice.tools.changes import confirm_change, discard_pending_change
from navan_voice.tools.hotels import list_car_rentals, list_hotel_stays, propose_hotel_dates
from navan_voice.tools.identity import identify_caller
from navan_voice.tools.state import CallState
from navan_voice.tools.trips import cancellation_terms, list_upcoming_trips


class HotelsAgent(NavanAgent):
    prompt = "hotels"

    def __init__(self, state: CallState, *, chat_ctx: ChatContext | None = None) -> None:
        super().__init__(
            state,
            tools=[
                identify_caller,  # a caller may switch traveler here too
                list_upcoming_trips,
                list_hotel_stays,
                list_car_rentals,
                cancellation_terms,
                propose_hotel_dates,
                confirm_change,
                discard_pending_change,
                transfer_to_flights,
                transfer_to_expenses,
                transfer_to_human,
            ],
            chat_ctx=chat_ctx,
        )
