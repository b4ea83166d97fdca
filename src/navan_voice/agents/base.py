"""What every navan agent shares: prompts from Markdown, the call state, arrival bookkeeping."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from livekit.agents import Agent, FlushSentinel, ModelSettings, llm
from livekit.agents.llm import ChatContext

from navan_voice.speech.dialogue.clock import CALLER_ZONE
from navan_voice.tools.flights import decisions_news
from navan_voice.tools.state import CallState
from navan_voice.tools.trips import known_zone

logger = logging.getLogger(__name__)

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"


@cache
def load_prompt(name: str) -> str:
    """The Markdown prompt ``prompts/<name>.md``."""
    return (PROMPTS_DIR / f"{name}.md").read_text(encoding="utf-8").strip()


def instructions_for(prompt: str, state: CallState) -> str:
    """Shared rules, then the agent's own prompt, then what is known about this call.

    The per-call facts come last so that the long, stable prefix stays cacheable by the model.
    """
    facts = [f"Channel: {state.channel.value}."]
    if state.identified:
        facts.append(
            f"The caller is identified: {state.traveler_name} of {state.company_name}. "
            "Do not ask who they are again."
        )
    else:
        facts.append("The caller is not identified yet.")
    if state.current_trip_code:
        facts.append(f"The trip being discussed: {state.current_trip_code}.")
    return "\n\n".join(
        [load_prompt("common"), load_prompt(prompt), "Call facts: " + " ".join(facts)]
    )


def count_days_where_the_booking_is(state: CallState) -> None:
    """Set ``CALLER_ZONE`` for the model step that follows (in this task and those it starts),
    without waiting on the database (``known_zone``)."""
    CALLER_ZONE.set(known_zone(state))


async def prepare_greeting(state: CallState) -> None:
    """What the greeting of an identified caller needs from the database, read before it: a
    manager's decisions they have not heard yet (``state.greeting_news``; none on an outbound
    call, whose notice comes first)."""
    if state.identified and not state.opening_notice:
        state.greeting_news = await decisions_news(state)


class NavanAgent(Agent):
    """Base of the navan agents; subclasses name their prompt and list their tools."""

    prompt: ClassVar[str]

    def __init__(
        self, state: CallState, *, tools: list[Any], chat_ctx: ChatContext | None = None
    ) -> None:
        # call-wide tools the worker adds (e.g. look_at_screen on a web call) go to every agent
        super().__init__(
            instructions=instructions_for(self.prompt, state),
            tools=[*tools, *state.extra_tools],
            chat_ctx=chat_ctx,
        )
        self.state = state

    async def llm_node(
        self, chat_ctx: ChatContext, tools: list[llm.Tool], model_settings: ModelSettings
    ) -> AsyncIterator[llm.ChatChunk | str | FlushSentinel]:
        """livekit's own model step, after naming the time zone of the booking discussed: the
        offline engine turns "tomorrow" into a date where the booking is, not on the worker's
        clock (speech/dialogue/clock.py)."""
        count_days_where_the_booking_is(self.state)
        async for chunk in Agent.default.llm_node(self, chat_ctx, tools, model_settings):
            yield chunk

    def _arrived(self) -> None:
        self.state.agents_visited.append(type(self).__name__)
        logger.info("call %s: %s takes over", self.state.call_id, type(self).__name__)

    async def on_enter(self) -> None:
        """A specialist picks up where the previous agent left off: it answers the request
        that led to the hand-off, from the carried conversation, without asking again."""
        self._arrived()
        self.session.generate_reply()
