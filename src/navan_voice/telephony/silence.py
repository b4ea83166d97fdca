"""Silence on the line: prompt the caller once, then say goodbye and hang up.

Built on livekit-agents' own away detection: ``AgentSession(user_away_timeout=…)`` moves the
user state to ``"away"`` after that many seconds in which neither side spoke. The first time we
ask whether the caller is still there; if the line stays silent for another period we end the
call politely. Any speech from the caller resets the count. (livekit reports "away" once per
change of state, so after the prompt the state is set back to "listening" to count again.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from livekit.agents import AgentSession, UserStateChangedEvent

logger = logging.getLogger(__name__)

STILL_THERE = "Are you still there? I'm here whenever you're ready."
GOODBYE = (
    "I haven't heard anything for a while, so I'll end the call now. "
    "Goodbye, and thanks for calling Navan."
)


def away_timeout(settings_timeout_s: float) -> float:
    """The ``user_away_timeout`` to give AgentSession: half the silence budget, since the agent
    prompts once at half-time and hangs up at the end."""
    return max(settings_timeout_s / 2.0, 1.0)


class SilenceGuard:
    """Watches one session's user state; ``hang_up`` ends the call (e.g. deletes the room)."""

    def __init__(
        self,
        session: AgentSession[Any],
        hang_up: Callable[[], Awaitable[None]],
        *,
        prompt: str = STILL_THERE,
        goodbye: str = GOODBYE,
    ) -> None:
        self._session = session
        self._hang_up = hang_up
        self._prompt = prompt
        self._goodbye = goodbye
        self.prompts = 0
        self.ended = False
        self._paused = False
        self._task: asyncio.Task[None] | None = None
        session.on("user_state_changed", self._on_state)

    @property
    def paused(self) -> bool:
        """True while the agent is not on the line (e.g. the caller talks to a colleague)."""
        return self._paused

    @paused.setter
    def paused(self, value: bool) -> None:
        self._paused = value
        if not value:  # count the silence afresh from now
            self.prompts = 0
            self._session.reset_away_timer()

    def _on_state(self, event: UserStateChangedEvent) -> None:
        if event.new_state == "speaking":
            self.prompts = 0
            return
        if event.new_state != "away" or self.ended or self.paused:
            return
        if self.prompts == 0:
            self.prompts += 1
            logger.info("caller silent: prompting")
            self._task = asyncio.create_task(self._prompt_once())
        else:
            self.ended = True
            logger.info("caller still silent: ending the call")
            self._task = asyncio.create_task(self._end())

    async def _prompt_once(self) -> None:
        handle = self._session.say(self._prompt)
        await handle.wait_for_playout()
        # the user state is still "away" and livekit only reports a change: back to
        # "listening", so that another silent period reports "away" again
        self._session.reset_away_timer()

    async def _end(self) -> None:
        try:
            handle = self._session.say(self._goodbye, allow_interruptions=False)
            await handle.wait_for_playout()
        finally:
            await self._hang_up()

    def close(self) -> None:
        self._session.off("user_state_changed", self._on_state)
