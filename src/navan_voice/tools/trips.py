"""Reading trips."""

from __future__ import annotations

import asyncio
import logging
import re

from livekit.agents import RunContext, function_tool

from navan_voice.services import flights, trips
from navan_voice.tools import speech
from navan_voice.tools._call import off_loop, read_service, require_identified, state_of
from navan_voice.tools.state import CallState

logger = logging.getLogger(__name__)


# zone reads in flight (an asyncio task is only kept alive by a reference)
_ZONE_READS: set[asyncio.Task[None]] = set()


def _zone_key(state: CallState) -> tuple[object, ...]:
    return (state.traveler_id, state.current_trip_code, state.current_segment_id,
            state.current_hotel_id)  # fmt: skip


async def _read_zone(state: CallState) -> str | None:
    """``trips.booking_zone`` of the booking discussed; a failed read is logged, and None."""
    try:
        return await off_loop(
            trips.booking_zone,
            db=state.db,
            traveler_id=state.traveler_id,
            segment_id=state.current_segment_id,
            stay_id=state.current_hotel_id,
            trip_code=state.current_trip_code,
        )
    except Exception:
        logger.warning("call %s: booking's time zone not read", state.call_id, exc_info=True)
        return None


def known_zone(state: CallState) -> str | None:
    """The time zone a caller's "today" or "tomorrow" counts in for the booking discussed
    (``trips.booking_zone``), as last read, at once, for a model step; None before a booking
    is discussed (the worker's clock then). When the booking discussed changed since (a tool
    just resolved it), a read in the background brings it up to date for the next step, so no
    step waits on the database. The step that follows the tool speaks its result; the caller's
    next words find the zone read."""
    if state.traveler_id is None:
        return None
    if state.zone_of != (key := _zone_key(state)):
        state.zone_of = key

        async def refresh() -> None:
            zone = await _read_zone(state)
            if state.zone_of == key:  # not overtaken by a later booking
                state.zone = zone

        task = asyncio.create_task(refresh())
        _ZONE_READS.add(task)
        task.add_done_callback(_ZONE_READS.discard)
    return state.zone


async def zone_reads_settled() -> None:
    """Wait for the zone reads in flight (tests: a caller's next words come seconds later)."""
    await asyncio.gather(*list(_ZONE_READS))


@function_tool
async def list_upcoming_trips(context: RunContext[CallState]) -> str:
    """List the caller's upcoming trips with their flights, hotels and cars."""
    state = state_of(context)
    found = await read_service(
        state, trips.list_upcoming_trips, traveler_id=require_identified(state)
    )
    if not found:
        return "You have no upcoming trips."
    if len(found) == 1:
        state.current_trip_code = found[0].confirmation_code
    lines = [speech.trip(t) for t in found]
    return f"You have {len(found)} upcoming trip{'s' if len(found) > 1 else ''}: " + " | ".join(
        lines
    )


_KIND_ONLY = re.compile(r"\W*(?:(?:my|the|our)\s+)?(flights?|hotels?|hotel stays?)\W*", re.I)


@function_tool
async def cancellation_terms(context: RunContext[CallState], booking: str = "") -> str:
    """Explain the cancellation policy of the caller's bookings, without cancelling anything.

    Says what cancelling each flight now would give back under its fare rules, and what is
    known of a hotel's own terms.

    Args:
        booking: which booking: flight number, route, trip confirmation code, hotel name or
            city, or just "flight" or "hotel"; empty for the trip being discussed
    """
    state = state_of(context)
    traveler_id = require_identified(state)
    reference = booking.strip()
    kind = _KIND_ONLY.fullmatch(reference)
    wants = kind.group(1).lower()[:5] if kind else ""  # "fligh" | "hotel" | ""
    if kind:
        reference = ""
    # nothing named: the trip being discussed, else every upcoming booking
    scope = state.current_trip_code if not reference else None
    segments = await read_service(
        state,
        trips.upcoming_segments,
        traveler_id=traveler_id,
        reference=reference,
        trip_code=scope,
    )
    stays = await read_service(
        state,
        trips.upcoming_hotels,
        traveler_id=traveler_id,
        reference=reference,
        trip_code=scope,
    )
    if wants == "hotel" or (reference and stays and not segments):
        segments = []
    if wants == "fligh" or (reference and segments):
        stays = []
    if not segments and not stays:
        return "I found no upcoming booking like that to cancel; which flight or hotel is it?"
    said = []
    for seg in segments[:3]:
        quote = await read_service(
            state, flights.quote_cancellation, traveler_id=traveler_id, segment_id=seg.id
        )
        said.append(speech.cancel_terms(seg, quote))
    said += [speech.hotel_cancel_terms(h) for h in stays[:2]]
    lead = "If you cancelled now: " if segments else ""
    return lead + " ".join(said) + " Nothing is cancelled unless you ask me to."
