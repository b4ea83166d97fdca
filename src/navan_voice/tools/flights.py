"""Flight alternatives; proposing a change or a cancellation (then ``confirm_change``)."""

from __future__ import annotations

import logging

from livekit.agents import RunContext, function_tool
from livekit.agents.llm import ToolError

from navan_voice.domain.models import ApprovalStatus, CabinClass
from navan_voice.services import approvals, flights, trips
from navan_voice.tools import speech
from navan_voice.tools._call import (
    caller_date,
    off_loop,
    read_service,
    require_identified,
    state_of,
)
from navan_voice.tools.state import CallState, PendingChange

logger = logging.getLogger(__name__)


def _cabin(text: str) -> CabinClass | None:
    low = text.strip().lower().replace(" ", "_").replace("-", "_")
    if not low:
        return None
    for cabin in CabinClass:
        if low in (cabin.value, cabin.value.split("_")[0]) or low == f"{cabin.value}_class":
            return cabin
    raise ToolError(f"{text!r} is not a cabin; say economy, premium economy, business or first.")


async def _segment_id(state: CallState, flight: str) -> int:
    """The flight the caller means: named now, else the one we are talking about, else theirs."""
    traveler_id = require_identified(state)
    if not flight.strip() and state.current_segment_id is not None:
        return state.current_segment_id
    seg = await read_service(
        state,
        trips.resolve_segment,
        traveler_id=traveler_id,
        reference=flight,
        trip_code=state.current_trip_code,  # "the return flight" of the trip discussed
    )
    if seg.id != state.current_segment_id:
        state.options = []
    state.current_segment_id = seg.id
    state.current_trip_code = seg.confirmation_code
    return seg.id


@function_tool
async def flight_details(context: RunContext[CallState], flight: str = "") -> str:
    """Look up when one of the caller's booked flights departs and arrives, with its route.

    Args:
        flight: which booked flight: flight number, trip confirmation code, route like
            "SFO to JFK", "to JFK" for the flight arriving there or "from JFK" for the one
            leaving it, "return" or "outbound" for a leg of the trip; empty for the flight
            already being discussed
    """
    state = state_of(context)
    traveler_id = require_identified(state)
    seg_id = await _segment_id(state, flight)
    seg = await read_service(state, trips.get_segment, traveler_id=traveler_id, segment_id=seg_id)
    return speech.flight_times(seg)


@function_tool
async def find_alternative_flights(
    context: RunContext[CallState], flight: str = "", date: str = "", cabin: str = ""
) -> str:
    """Find other flights the caller could move a booked flight to, with their fares.

    Args:
        flight: which booked flight: flight number, trip confirmation code, route like
            "SFO to JFK", or "return" or "outbound" for a leg of the trip; empty for the
            flight already being discussed
        date: the new travel date as the caller said it ("Friday", "tomorrow", "March 14")
            or as 2025-03-14; the tool counts from the day where the flight leaves; empty
            for around the booked day
        cabin: economy, premium economy, business or first; empty for the booked cabin
    """
    state = state_of(context)
    seg_id = await _segment_id(state, flight)
    on_date = None
    if date.strip():  # "Friday" is Friday where the flight leaves from
        today = await read_service(
            state, trips.booking_today, traveler_id=require_identified(state), segment_id=seg_id
        )
        on_date = caller_date(date, today)
    options = await read_service(
        state,
        flights.find_alternatives,
        traveler_id=require_identified(state),
        segment_id=seg_id,
        on_date=on_date,
        cabin=_cabin(cabin),
    )
    state.options = options
    if not options:
        return "I found no other flights with seats on that route and day; try another date."
    spoken = " ".join(speech.option(i, o) for i, o in enumerate(options, start=1))
    return f"I have {len(options)} options. {spoken} Which one would you like?"


@function_tool
async def propose_flight_change(
    context: RunContext[CallState], option: int, cabin: str = ""
) -> str:
    """Price a change to one of the options just listed and read it back; changes nothing yet.

    Args:
        option: the number of the option the caller picked, as read out (1 for the first,
            -1 for the last)
        cabin: economy, premium economy, business or first; empty to keep the booked cabin
    """
    state = state_of(context)
    traveler_id = require_identified(state)
    if not state.options or state.current_segment_id is None:
        raise ToolError("I need to look up the alternative flights first.")
    if option == -1:  # "the last one"
        option = len(state.options)
    if not 1 <= option <= len(state.options):
        raise ToolError(f"Please pick an option between 1 and {len(state.options)}.")
    chosen = state.options[option - 1]
    quote = await read_service(
        state,
        flights.quote_flight_change,
        traveler_id=traveler_id,
        segment_id=state.current_segment_id,
        option_id=chosen.id,
        cabin=_cabin(cabin),
    )
    read_back = speech.change_read_back(quote)
    state.pending = PendingChange(quote, read_back)
    return read_back


@function_tool
async def propose_flight_cancellation(context: RunContext[CallState], flight: str = "") -> str:
    """Say what cancelling a booked flight gives back and ask to confirm; cancels nothing yet.

    Args:
        flight: which booked flight: flight number, trip confirmation code, route, or
            "return" or "outbound" for a leg of the trip; empty for the flight already being
            discussed
    """
    state = state_of(context)
    seg_id = await _segment_id(state, flight)
    quote = await read_service(
        state,
        flights.quote_cancellation,
        traveler_id=require_identified(state),
        segment_id=seg_id,
    )
    read_back = speech.cancel_read_back(quote)
    state.pending = PendingChange(quote, read_back)
    return read_back


@function_tool
async def manager_decision_status(context: RunContext[CallState]) -> str:
    """Say where the caller's requests to their manager stand: approved, rejected or still
    pending. For a flight change the caller was told needs approval."""
    state = state_of(context)
    requests = await read_service(
        state, approvals.traveler_requests, traveler_id=require_identified(state)
    )
    if not requests:
        return "You have no flight change waiting for approval or decided in the last 30 days."
    said = requests[:3]
    if heard := [a.id for a in said if a.status is not ApprovalStatus.PENDING]:
        # they heard these decisions now: the next call's greeting does not tell them again.
        # A failed mark only means the greeting may repeat one: the answer is still given.
        try:
            await off_loop(
                approvals.mark_told, db=state.db, approval_ids=heard, call_id=state.call_id
            )
        except Exception:
            logger.warning("call %s: decisions heard not marked told", state.call_id,
                           exc_info=True)  # fmt: skip
    return " ".join(speech.approval(a) for a in said)


async def decisions_news(state: CallState) -> str:
    """What a manager decided on the caller's requests since they last heard, one sentence
    each, to say once they are identified (nothing notifies a traveler otherwise). Marked
    told on this call. "" when there is none, on the look-ahead (it must not mark anything),
    or when the database fails: a greeting never fails for news, and the caller can still ask
    (``manager_decision_status``)."""
    if state.traveler_id is None or state.ahead:
        return ""
    try:
        news = await off_loop(
            approvals.decisions_to_tell,
            db=state.db,
            traveler_id=state.traveler_id,
            call_id=state.call_id,
        )
    except Exception:
        logger.warning("call %s: manager decisions not read", state.call_id, exc_info=True)
        return ""
    if not news:
        return ""
    said = " ".join(speech.approval(a) for a in news)
    state.note(f"Told of manager decisions: {said}")
    state.tags["told_decisions"] = str(len(news))
    return said
