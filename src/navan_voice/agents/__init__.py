"""The agents of a call: greeter → flights / hotels & cars / expenses & policy → escalation.

The worker starts a session with ``userdata=CallState(...)`` and ``build_first_agent(state)``;
awaiting ``prepare_call(state)`` first identifies a caller by their phone number before the
greeting, and reads what the greeting tells them (the greeter does it itself otherwise, racing
the caller's first words).
"""

from __future__ import annotations

from livekit.agents import Agent

from navan_voice.tools.state import CallState


def build_first_agent(state: CallState) -> Agent:
    """The agent a call starts with: the greeter, which identifies and routes the caller."""
    from navan_voice.agents.greeter import GreeterAgent

    return GreeterAgent(state)


async def prepare_call(
    state: CallState, *, signed_in_traveler: int | None = None, trip_code: str | None = None
) -> None:
    """Identify the caller before the greeting: the traveler the web app signed in, else the
    calling number (never raises; a database that is down is tagged on the state)."""
    from navan_voice.agents.base import prepare_greeting
    from navan_voice.tools.identity import identify_from_phone, identify_signed_in

    if signed_in_traveler is not None:
        await identify_signed_in(state, signed_in_traveler, trip_code)
    await identify_from_phone(state)
    await prepare_greeting(state)


__all__ = ["CallState", "build_first_agent", "prepare_call"]
