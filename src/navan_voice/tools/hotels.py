"""Hotel date changes (confirmed by ``confirm_change``) and car rentals."""

from __future__ import annotations

from livekit.agents import RunContext, function_tool
from livekit.agents.llm import ToolError

from navan_voice.domain.models import format_money
from navan_voice.services import hotels, trips
from navan_voice.tools import speech
from navan_voice.tools._call import caller_date, read_service, require_identified, state_of
from navan_voice.tools.state import CallState, PendingChange


@function_tool
async def propose_hotel_dates(
    context: RunContext[CallState],
    check_in_date: str = "",
    check_out_date: str = "",
    hotel: str = "",
) -> str:
    """Price new dates for a hotel stay and read them back; changes nothing yet.

    Args:
        check_in_date: the new check-in date as the caller said it ("tomorrow", "March 14")
            or as 2025-03-14 (the tool counts from the hotel's day); empty to keep the booked one
        check_out_date: the new check-out date, said the same way, e.g. "March 17"; empty to
            keep the booked one
        hotel: which stay: hotel confirmation code, hotel name or city; empty for the only one
    """
    state = state_of(context)
    traveler_id = require_identified(state)
    if not check_in_date.strip() and not check_out_date.strip():
        raise ToolError("Which dates would you like: the new check-in, check-out, or both?")
    stay = await read_service(state, trips.resolve_hotel, traveler_id=traveler_id, reference=hotel)
    # dates count from the hotel's day; a stay already begun may keep its check-in date
    today = await read_service(state, trips.booking_today, traveler_id=traveler_id, stay_id=stay.id)
    check_in = (
        caller_date(check_in_date, today, earliest=stay.check_in)
        if check_in_date.strip()
        else stay.check_in
    )
    check_out = caller_date(check_out_date, today) if check_out_date.strip() else stay.check_out
    state.current_hotel_id = stay.id
    quote = await read_service(
        state,
        hotels.quote_hotel_dates,
        traveler_id=traveler_id,
        stay_id=stay.id,
        check_in=check_in,
        check_out=check_out,
        today=today,  # the hotel's day, read above: not read again
    )
    read_back = speech.hotel_read_back(quote)
    state.pending = PendingChange(quote, read_back)
    return read_back


@function_tool
async def list_hotel_stays(context: RunContext[CallState], hotel: str = "") -> str:
    """Look up the caller's booked hotel stays: hotel name, city, check-in and check-out dates.

    Args:
        hotel: which stay: hotel confirmation code, hotel name or city; empty for all of them
    """
    state = state_of(context)
    stays = await read_service(
        state,
        trips.upcoming_hotels,
        traveler_id=require_identified(state),
        reference=hotel,
    )
    if not stays:
        what = f" in or at {hotel.strip()}" if hotel.strip() else ""
        return f"You have no upcoming hotel stays{what} on your bookings."
    if len(stays) == 1:
        state.current_hotel_id = stays[0].id
        state.current_trip_code = await read_service(
            state, trips.trip_code, traveler_id=state.traveler_id, trip_id=stays[0].trip_id
        )
        return "You're staying at " + speech.hotel_stay(stays[0])
    return f"You have {len(stays)} hotel stays: " + " ".join(speech.hotel_stay(h) for h in stays)


@function_tool
async def list_car_rentals(context: RunContext[CallState]) -> str:
    """List the caller's upcoming car rentals."""
    state = state_of(context)
    cars = await read_service(state, hotels.list_car_rentals, traveler_id=require_identified(state))
    if not cars:
        return "You have no upcoming car rentals."
    return " ".join(
        f"{c.vendor} at {c.pickup_location}, pick-up {speech.when(c.pickup_at)}, return "
        f"{speech.when(c.dropoff_at)}, {format_money(c.daily_rate_cents)} a day, "
        f"confirmation {c.confirmation_code}."
        for c in cars
    )
