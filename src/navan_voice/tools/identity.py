"""Identifying the caller."""

from __future__ import annotations

import logging
from collections.abc import Callable

from livekit.agents import RunContext, function_tool
from livekit.agents.llm import ToolError

from navan_voice.domain.errors import CallerNotIdentifiedError, DataUnavailableError
from navan_voice.domain.models import Traveler
from navan_voice.services import identity
from navan_voice.tools._call import off_loop, read_service, state_of
from navan_voice.tools.flights import decisions_news
from navan_voice.tools.state import CallState

logger = logging.getLogger(__name__)

# wrong code or name this many times: the caller is offered a person instead of a fourth try
MAX_IDENTIFY_ATTEMPTS = 3
# the same words as the dialogue's offer (speech/dialogue/replies.OFFER_COLLEAGUE), so a "yes"
# to it hands the call over
OFFER_PERSON = "Would you like me to connect you with a colleague?"


def remember(state: CallState, traveler: Traveler, how: str) -> None:
    state.traveler_id = traveler.id
    state.traveler_name = traveler.full_name
    state.company_name = traveler.company_name
    state.tags["identified_by"] = how
    state.note(f"Identified as {traveler.full_name} by {how}.")


async def _look_up(
    state: CallState, find: Callable[..., Traveler | None], **query: object
) -> Traveler | None:
    """A start-of-call lookup off the event loop; a database that is down is tagged on the
    state (the agent then apologises) and counts as not found."""
    try:
        return await off_loop(find, db=state.db, **query)
    except DataUnavailableError:
        logger.warning("database down while identifying %s", state.call_id)
        state.tags["database"] = "down"
        return None


async def identify_from_phone(state: CallState) -> Traveler | None:
    """Match the calling number to a traveler at the start of a call; None when unknown/down."""
    if not state.caller_phone or state.identified or "phone_lookup" in state.tags:
        return None
    state.tags["phone_lookup"] = "done"  # once per call, whoever asks first
    found = await _look_up(state, identity.identify_by_phone, phone=state.caller_phone)
    if found is not None:
        remember(state, found, "phone number")
    return found


async def identify_signed_in(
    state: CallState, traveler_id: int, trip_code: str | None = None
) -> Traveler | None:
    """A web caller the web app signed in (its dispatch metadata names the traveler and the
    trip they signed in with): identified before the greeting, no questions asked."""
    if state.identified:
        return None
    found = await _look_up(state, identity.traveler_by_id, traveler_id=traveler_id)
    if found is None:
        logger.warning("call %s: signed-in traveler %s not found", state.call_id, traveler_id)
        return None
    remember(state, found, "web sign-in")
    if trip_code:
        state.current_trip_code = trip_code.upper()
    return found


@function_tool
async def identify_caller(
    context: RunContext[CallState], confirmation_code: str, last_name: str
) -> str:
    """Identify the caller by a trip confirmation code and their last name.

    Args:
        confirmation_code: the six-character trip confirmation code, e.g. NVN7Q2
        last_name: the caller's last name as on the booking
    """
    state = state_of(context)
    try:
        traveler = await read_service(
            state,
            identity.identify_by_confirmation,
            confirmation_code=confirmation_code,
            last_name=last_name,
        )
    except ToolError as e:
        if not isinstance(e.__cause__, CallerNotIdentifiedError):
            raise
        state.failed_identifications += 1
        if state.failed_identifications < MAX_IDENTIFY_ATTEMPTS:
            raise
        state.note(f"Not identified after {state.failed_identifications} tries.")
        raise ToolError(f"{e} {OFFER_PERSON}") from e
    before = state.traveler_name if state.traveler_id not in (None, traveler.id) else None
    if before is not None:
        _switch_traveler(state, before, traveler)
    remember(state, traveler, "confirmation code")
    state.current_trip_code = confirmation_code.upper().replace(" ", "")
    await _refresh_instructions(context)
    found = f"Thanks, {traveler.first_name}, I found your profile."
    if before is not None:
        found += f" From now on I'm helping with {traveler.full_name}'s trips, not {before}'s."
    news = await decisions_news(state)  # a manager decided since they last heard
    return f"{found} {news + ' ' if news else ''}What can I help you with?"


async def _refresh_instructions(context: RunContext[CallState]) -> None:
    """The agent's instructions name who the caller is (agents/base.instructions_for): once
    they are identified, or switched, the instructions say so from the next reply on."""
    if not isinstance(context, RunContext):  # the look-ahead's stand-in context
        return
    from navan_voice.agents.base import NavanAgent, instructions_for  # agents import tools

    agent = context.session.current_agent
    if isinstance(agent, NavanAgent):
        await agent.update_instructions(instructions_for(agent.prompt, agent.state))


def _switch_traveler(state: CallState, before: str, traveler: Traveler) -> None:
    """Someone identified as one traveler gives another's code and name (an assistant booking
    for a colleague): nothing of the first traveler's carries over. Their options, the booking
    discussed and a change read back and not confirmed are dropped, so a "yes" can never act on
    one traveler's booking under the other's name; the switch is on the call's record."""
    if state.pending is not None:
        state.note(f"Not confirmed, dropped when the caller switched traveler: "
                   f"{state.pending.read_back}")  # fmt: skip
    state.pending = None
    state.options = []
    state.current_segment_id = state.current_hotel_id = state.current_trip_code = None
    state.note(f"Switched from {before} to {traveler.full_name}.")
    state.tags["switched_traveler"] = f"{before} -> {traveler.full_name}"
