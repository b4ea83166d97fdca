"""Travel tools for the benchmark, with the names, docstrings and arguments the real agents'
tools are likely to have; their bodies never run (the benchmark scores the decision only)."""

from __future__ import annotations

from livekit.agents import llm


@llm.function_tool
async def identify_by_confirmation(confirmation_code: str, last_name: str) -> str:
    """Identify the caller from a trip confirmation code and their last name.

    Args:
        confirmation_code: the six-character trip confirmation code, e.g. NVN7Q2
        last_name: the traveler's last name
    """
    return ""


@llm.function_tool
async def transfer_to_flights() -> None:
    """Hand the call to the flights specialist: look up, change or cancel flights."""


@llm.function_tool
async def transfer_to_hotels() -> None:
    """Hand the call to the hotels and cars specialist: hotel stays, dates and car rentals."""


@llm.function_tool
async def transfer_to_expenses() -> None:
    """Hand the call to the expenses and travel policy specialist."""


@llm.function_tool
async def transfer_to_human(reason: str = "") -> str:
    """Transfer the caller to a human colleague when they ask for a person or the agent
    cannot help.

    Args:
        reason: a one-line summary of what the caller needs
    """
    return ""


@llm.function_tool
async def list_upcoming_trips() -> str:
    """List the caller's upcoming trips with their flights and hotels."""
    return ""


@llm.function_tool
async def find_alternative_flights(date: str, flight: str = "", time_of_day: str = "") -> str:
    """Find other flights the caller could change to, on a given date.

    Args:
        date: the new travel date
        flight: which flight to change: flight number, route or confirmation code; empty if
            the caller has only one
        time_of_day: morning, afternoon, evening or a clock time, if the caller said one
    """
    return ""


@llm.function_tool
async def quote_flight_change(option: int) -> str:
    """Read back the price and rules of changing to one of the alternatives just listed, and
    ask the caller to confirm.

    Args:
        option: the number of the alternative the caller chose, starting at 1
    """
    return ""


@llm.function_tool
async def confirm_flight_change() -> str:
    """Make the flight change the caller has just agreed to."""
    return ""


@llm.function_tool
async def quote_cancellation(flight: str = "") -> str:
    """Tell the caller what cancelling a flight would refund or credit, and ask to confirm.

    Args:
        flight: which flight to cancel: flight number, route or confirmation code
    """
    return ""


@llm.function_tool
async def confirm_cancellation() -> str:
    """Cancel the flight the caller has just agreed to cancel."""
    return ""


@llm.function_tool
async def ask_travel_policy(question: str) -> str:
    """Answer a question about the caller's company travel policy: cabin class, hotel caps,
    advance booking, approvals.

    Args:
        question: the caller's policy question in their own words
    """
    return ""


@llm.function_tool
async def expense_status() -> str:
    """Tell the caller the status of their submitted expenses."""
    return ""


@llm.function_tool
async def flight_details(flight: str = "") -> str:
    """Look up when one of the caller's booked flights departs and arrives, with its route.

    Args:
        flight: which booked flight: flight number, route like "SFO to JFK", "to JFK" for the
            flight arriving there; empty for the flight being discussed
    """
    return ""


@llm.function_tool
async def cancellation_terms(booking: str = "") -> str:
    """Explain the cancellation policy of the caller's bookings, without cancelling anything.

    Args:
        booking: which booking: flight number, route, hotel name or city, or just "flight" or
            "hotel"; empty for the trip being discussed
    """
    return ""


@llm.function_tool
async def list_hotel_stays(hotel: str = "") -> str:
    """Look up the caller's booked hotel stays: hotel name, city, check-in and check-out dates.

    Args:
        hotel: which stay: hotel confirmation code, hotel name or city; empty for all of them
    """
    return ""


@llm.function_tool
async def propose_hotel_dates(check_in_date: str, check_out_date: str, hotel: str = "") -> str:
    """Price new dates for a hotel stay and read them back; changes nothing yet.

    Args:
        check_in_date: the new check-in date
        check_out_date: the new check-out date
        hotel: which stay: hotel confirmation code, hotel name or city
    """
    return ""


GREETER = [
    identify_by_confirmation,
    transfer_to_flights,
    transfer_to_hotels,
    transfer_to_expenses,
    transfer_to_human,
]
FLIGHTS = [
    list_upcoming_trips,
    find_alternative_flights,
    quote_flight_change,
    confirm_flight_change,
    quote_cancellation,
    confirm_cancellation,
    transfer_to_human,
]
EXPENSES = [ask_travel_policy, expense_status, transfer_to_human]
# the booking-question set: the flights agent with its lookups, and the hotels agent
FLIGHTS_LOOKUP = [list_upcoming_trips, flight_details, cancellation_terms, *FLIGHTS[1:]]
HOTELS = [list_upcoming_trips, list_hotel_stays, cancellation_terms, propose_hotel_dates,
          transfer_to_flights, transfer_to_human]  # fmt: skip
AGENTS = {
    "greeter": GREETER,
    "flights": FLIGHTS,
    "expenses": EXPENSES,
    "flights-lookup": FLIGHTS_LOOKUP,
    "hotels": HOTELS,
}
