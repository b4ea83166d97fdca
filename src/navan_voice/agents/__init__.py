"""The agents of a call: greeter → flights / hotels & cars / expenses & policy → escalation.

The worker starts a session with ``userdata=CallState(...)`` and ``build_first_agent(state)``;
awaiting ``prepare_call(state)`` first identifies a caller by their phone number before the
greeting (the greeter does it itself otherwise, racing the caller's first words).
"""

from __future__ import annotations

from livekit.agents import Agent

from navan_voice.tools.state import CallState


def build_first_agent(state: CallState) -> Agent:
    """The agent a call starts with: the greeter, which identifies and routes the caller."""
    from navan_voice.agents.greeter import GreeterAgent

    return GreeterAgent(state)


async def prepare_call(state: CallState) -> None:
    """Look the calling number up (never raises; a database that is down is tagged on the state)."""
    from navan_voice.tools.identity import identify_from_phone

    await identify_from_phone(state)


__all__ = ["CallState", "build_first_agent", "prepare_call"]
