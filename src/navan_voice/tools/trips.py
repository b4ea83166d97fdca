"""Reading trips."""

from __future__ import annotations

from livekit.agents import RunContext, function_tool

from navan_voice.services import trips
from navan_voice.tools import speech
from navan_voice.tools._call import call_service, require_identified
from navan_voice.tools.state import CallState


@function_tool
async def list_upcoming_trips(context: RunContext[CallState]) -> str:
    """List the caller's upcoming trips with their flights, hotels and cars."""
    state = context.userdata
    found = await call_service(
        trips.list_upcoming_trips, db=state.db, traveler_id=require_identified(state)
    )
    if not found:
        return "You have no upcoming trips."
    if len(found) == 1:
        state.current_trip_code = found[0].confirmation_code
    lines = [speech.trip(t) for t in found]
    return f"You have {len(found)} upcoming trip{'s' if len(found) > 1 else ''}: " + " | ".join(
        lines
    )
