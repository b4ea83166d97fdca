"""Small travel agents for driving the dialogue engine, modelled on the real ones.

Their tools return short speakable strings, as the real tools do, and record each call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from livekit.agents import Agent, RunContext, function_tool
from livekit.agents.llm import ChatContext, ToolError


@dataclass
class CallState:
    traveler: str | None = None
    pending_option: int | None = None
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


OPTIONS = [
    "Option 1: UA 412 departing 7:05 AM, same fare.",
    "Option 2: UA 418 departing 9:40 AM, 85 dollars more.",
]


class GreeterAgent(Agent):
    def __init__(self, state: CallState) -> None:
        super().__init__(
            instructions=(
                "You are Navan's travel support greeter. Start with "
                '"Hi, this is Navan travel support. How can I help you today?" '
                "Identify the caller before routing them."
            )
        )
        self.state = state

    async def on_enter(self) -> None:
        self.session.generate_reply(instructions="Greet the caller.")

    @function_tool
    async def identify_caller(
        self, context: RunContext[Any], confirmation_code: str, last_name: str
    ) -> str:
        """Identify the caller by a booking confirmation code and their last name.

        Args:
            confirmation_code: the six-character booking confirmation code, e.g. NVN7Q2
            last_name: the traveler's last name
        """
        self.state.calls.append(("identify_caller", {"code": confirmation_code, "last": last_name}))
        if confirmation_code != "NVN7Q2":
            raise ToolError(f"I couldn't find a booking with code {confirmation_code}.")
        self.state.traveler = last_name
        return f"Thanks, {last_name}, I found your profile. What can I do for you?"

    @function_tool
    async def transfer_to_flights(self, context: RunContext[Any]) -> Agent:
        """Hand the caller to the flights specialist to look up, change or cancel a flight."""
        # the conversation goes along, as with the real agents, so the caller never repeats
        return FlightsAgent(self.state, chat_ctx=self.chat_ctx.copy(exclude_instructions=True))

    @function_tool
    async def transfer_to_human(self, context: RunContext[Any]) -> str:
        """Transfer the caller to a human support agent when they ask for a person."""
        self.state.calls.append(("transfer_to_human", {}))
        return "I'm transferring you to a colleague now. Please hold."


class FlightsAgent(Agent):
    def __init__(self, state: CallState, *, chat_ctx: ChatContext | None = None) -> None:
        super().__init__(
            instructions="You are Navan's flights specialist. Read back every change first.",
            chat_ctx=chat_ctx,
        )
        self.state = state

    async def on_enter(self) -> None:
        self.session.generate_reply()

    @function_tool
    async def list_upcoming_trips(self, context: RunContext[Any]) -> str:
        """List the caller's upcoming trips and flights."""
        self.state.calls.append(("list_upcoming_trips", {}))
        return "You have one upcoming trip: San Francisco to New York on May 12, flight UA 410."

    @function_tool
    async def find_alternative_flights(self, context: RunContext[Any], date: str) -> str:
        """Find alternative flights for a flight change on a new date.

        Args:
            date: the new travel date, ISO format YYYY-MM-DD
        """
        self.state.calls.append(("find_alternative_flights", {"date": date}))
        return f"On {date} I have two options. " + " ".join(OPTIONS) + " Which one would you like?"

    @function_tool
    async def propose_flight_change(self, context: RunContext[Any], option: int) -> str:
        """Read back a flight change for the caller to confirm, before making it.

        Args:
            option: the number of the chosen alternative flight option
        """
        self.state.calls.append(("propose_flight_change", {"option": option}))
        self.state.pending_option = option
        return f"{OPTIONS[option - 1]} Shall I make the change?"

    @function_tool
    async def confirm_flight_change(self, context: RunContext[Any]) -> str:
        """Make the flight change the caller has just agreed to."""
        self.state.calls.append(("confirm_flight_change", {}))
        if self.state.pending_option is None:
            raise ToolError("There is no change waiting for confirmation.")
        return "Done. Your flight is changed and the new itinerary is on its way by email."

    @function_tool
    async def cancel_flight(self, context: RunContext[Any], confirmation_code: str) -> str:
        """Cancel a flight booking.

        Args:
            confirmation_code: the booking confirmation code of the flight to cancel
        """
        self.state.calls.append(("cancel_flight", {"code": confirmation_code}))
        return f"Booking {confirmation_code} is cancelled; the fare goes back as a credit."

    @function_tool
    async def ask_travel_policy(self, context: RunContext[Any], question: str) -> str:
        """Answer a question about the company's travel policy.

        Args:
            question: the caller's policy question in their own words
        """
        self.state.calls.append(("ask_travel_policy", {"question": question}))
        return "Your policy allows economy on flights under six hours."

    @function_tool
    async def transfer_to_human(self, context: RunContext[Any]) -> str:
        """Transfer the caller to a human support agent when they ask for a person."""
        self.state.calls.append(("transfer_to_human", {}))
        return "I'm transferring you to a colleague now. Please hold."
