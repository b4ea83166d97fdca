"""Support cases for a human colleague."""

from __future__ import annotations

import logging

from livekit.agents import RunContext, function_tool

from navan_voice.domain.errors import DataUnavailableError, DomainError
from navan_voice.services import cases
from navan_voice.tools._call import off_loop, state_of
from navan_voice.tools.state import CallState

logger = logging.getLogger(__name__)


async def open_case_best_effort(state: CallState, reason: str, category: str = "other") -> str:
    """Open a case with the call's summary and return its reference.

    When the database is down, the summary stays on the call (``tags["unsaved_case"]``, which
    the recording's metadata carries) and the result is "".
    """
    if state.case_reference:
        return state.case_reference
    summary = state.summary(reason)
    try:
        case = await off_loop(
            cases.open_case,
            db=state.db,
            traveler_id=state.traveler_id,
            call_id=state.call_id,
            summary=summary,
            category=category,
        )
    except (DataUnavailableError, DomainError) as e:
        logger.warning("could not store a case for call %s: %s", state.call_id, e)
        state.tags["unsaved_case"] = summary
        return ""
    state.case_reference = case.reference
    state.tags["case"] = case.reference
    return case.reference


@function_tool
async def open_support_case(
    context: RunContext[CallState], summary: str, category: str = "other"
) -> str:
    """Open a support case so a human colleague follows up, with a summary of the request.

    Args:
        summary: what the caller needs, in one or two sentences
        category: one of flight, hotel, car, expense, policy, account, other
    """
    state = state_of(context)
    reference = await open_case_best_effort(state, summary, category)
    if not reference:
        return (
            "I'm sorry, I could not save a case either, because our systems are down. I've "
            "kept your details on this call; please try again later or email support."
        )
    return (
        f"I've opened case {' '.join(reference)}; a colleague will follow up by email. "
        "Is there anything else?"
    )
