"""Thin ``@function_tool`` wrappers over the travel services, shared by the agents.

Each tool's Google-style ``Args:`` docstring is the schema the model sees; each returns a short
speakable string; domain errors become ``ToolError`` (their messages are safe to speak).
Hand-off tools live in ``navan_voice.agents.handoffs`` because they return agents.
"""

# Tools that only read: the database, and the call state they may change (who the caller is; a
# proposed change is a quote held in the call state, only ``confirm_change`` writes it). The
# look-ahead (agents/lookahead.py) runs them on a copy of the call state before the turn is over.
READ_ONLY_TOOLS = frozenset(
    {
        "identify_caller",
        "list_upcoming_trips",
        "cancellation_terms",
        "flight_details",
        "find_alternative_flights",
        "list_hotel_stays",
        "list_car_rentals",
        "expense_status",
        "ask_travel_policy",
        "propose_flight_change",
        "propose_flight_cancellation",
        "propose_hotel_dates",
    }
)
