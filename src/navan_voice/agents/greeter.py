"""The greeter: identifies the caller (phone number first), then routes to a specialist."""

from __future__ import annotations

import asyncio
import logging

from livekit.agents.llm import ChatContext

from navan_voice.agents.base import NavanAgent, instructions_for, prepare_greeting
from navan_voice.agents.handoffs import (
    transfer_to_expenses,
    transfer_to_flights,
    transfer_to_hotels,
    transfer_to_human,
)
from navan_voice.tools.identity import identify_caller, identify_from_phone
from navan_voice.tools.state import CallState
from navan_voice.tools.trips import list_upcoming_trips

logger = logging.getLogger(__name__)
READY_TIMEOUT_S = 5.0


class GreeterAgent(NavanAgent):
    prompt = "greeter"

    def __init__(self, state: CallState, *, chat_ctx: ChatContext | None = None) -> None:
        super().__init__(
            state,
            tools=[
                identify_caller,
                list_upcoming_trips,
                transfer_to_flights,
                transfer_to_hotels,
                transfer_to_expenses,
                transfer_to_human,
            ],
            chat_ctx=chat_ctx,
        )

    async def on_enter(self) -> None:
        self._arrived()
        # speak only once the worker's recorder is in place, so the greeting is recorded
        try:
            await asyncio.wait_for(self.state.ready.wait(), READY_TIMEOUT_S)
        except TimeoutError:
            logger.warning("call %s: greeting before the recorder was ready", self.state.call_id)
        if self.state.opening_notice:  # an outbound call: the notice is the first thing said
            self.session.say(self.state.opening_notice)
            return
        # the worker usually identified the number already (prepare_call); else try now
        if await identify_from_phone(self.state) is not None:
            await prepare_greeting(self.state)
        if self.state.identified and self.state.traveler_name:
            await self.update_instructions(instructions_for(self.prompt, self.state))
            first_name = self.state.traveler_name.split()[0]
            if news := self.state.greeting_news:
                # said word for word: a manager's decision is not the model's to paraphrase
                self.session.say(
                    f"Hi {first_name}, this is Navan travel support. {news} "
                    "How can I help you today?"
                )
                return
            greeting = (
                f"Greet {first_name} by name as Navan travel support and ask how you can help."
            )
        else:
            greeting = (
                "Greet the caller as Navan travel support, ask how you can help, and ask for "
                "their trip confirmation code and last name."
            )
        self.session.generate_reply(instructions=greeting)
