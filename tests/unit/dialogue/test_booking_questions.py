"""Questions about a caller's own bookings: which flight a city means, lookups before changes,
and a specialist that answers the request it was handed even when the hand-off call is not in
the conversation it was given."""

from __future__ import annotations

import datetime as dt

import pytest

from navan_voice.speech.dialogue import slots
from navan_voice.speech.dialogue.arguments import fill_arguments, flight_reference
from navan_voice.speech.dialogue.context import Conversation, Item, ToolEvent, ToolSpec
from navan_voice.speech.dialogue.intents import is_information_question
from navan_voice.speech.dialogue.rules import Decision, RulesEngine

pytestmark = pytest.mark.unit

TODAY = dt.date(2026, 5, 4)
FLIGHT = {"type": "string", "description": "which booked flight: flight number or route"}


def spec(name: str, description: str, *, required: bool = False, **props: object) -> ToolSpec:
    return ToolSpec(
        name,
        description,
        {"properties": props, "required": list(props) if required else []},
    )


# the real flights agent's tools, as the engine sees them (names and first sentences)
FLIGHT_TOOLS = [
    spec("list_upcoming_trips", "List the caller's upcoming trips with their flights, hotels."),
    spec(
        "flight_details",
        "Look up when one of the caller's booked flights departs and arrives, with its route.",
        flight=FLIGHT,
    ),
    spec(
        "cancellation_terms",
        "Explain the cancellation policy of the caller's bookings, without cancelling anything.",
        booking={"type": "string", "description": 'which booking, or just "flight" or "hotel"'},
    ),
    spec(
        "find_alternative_flights",
        "Find other flights the caller could move a booked flight to, with their fares.",
        flight=FLIGHT,
    ),
    spec(
        "propose_flight_cancellation",
        "Say what cancelling a booked flight gives back and ask to confirm; cancels nothing yet.",
        flight=FLIGHT,
    ),
    spec("transfer_to_hotels", "Hand the caller to the hotels and rental cars specialist."),
]
HOTEL_TOOLS = [
    spec("list_upcoming_trips", "List the caller's upcoming trips with their flights, hotels."),
    spec(
        "list_hotel_stays",
        "Look up the caller's booked hotel stays: hotel name, city, check-in and check-out dates.",
        hotel={"type": "string", "description": "which stay: hotel code, hotel name or city"},
    ),
    ToolSpec(
        "propose_hotel_dates",
        "Price new dates for a hotel stay and read them back; changes nothing yet.",
        {
            "properties": {
                "check_in_date": {"type": "string", "description": "the new check-in date"},
                "check_out_date": {"type": "string", "description": "the new check-out date"},
                "hotel": {"type": "string", "description": "which stay: hotel name or city"},
            },
            "required": ["check_in_date", "check_out_date"],
        },
    ),
    spec("list_car_rentals", "List the caller's upcoming car rentals."),
    spec("transfer_to_flights", "Hand the caller to the flights specialist."),
]


def decide(tools: list[ToolSpec], *items: Item) -> Decision:
    return RulesEngine(today=lambda: TODAY).decide(Conversation(items=list(items)), tools)


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("When does my flight to new york leave", "to JFK"),
        ("the flight out of Denver", "from DEN"),
        ("flying into JFK on Friday", "to JFK"),
        ("my New York flight", "JFK"),  # either end: the service asks which one
        ("Change my SFO to JFK flight", "SFO to JFK"),
        ("What hotel am I staying at in New York?", "JFK"),  # "in" is no direction
    ],
)
def test_a_city_with_a_direction_names_the_flight(text: str, reference: str) -> None:
    assert flight_reference(text) == reference
    assert slots.airport_direction("back from Chicago") == "from"


@pytest.mark.parametrize(
    ("text", "asking"),
    [
        ("When does my flight to new york leave", True),
        ("What is the cancellation policy", True),
        ("What hotel am I staying at in New York?", True),
        ("Can I move my flight to next Tuesday?", False),
        ("What if I change it to Friday instead", False),
        ("Cancel my Denver flight", False),
    ],
)
def test_information_questions(text: str, asking: bool) -> None:
    assert is_information_question(text) is asking


def test_when_does_my_flight_leave_looks_it_up_and_cancels_nothing() -> None:
    d = decide(FLIGHT_TOOLS, Item("user", "When does my flight to new york leave"))
    assert (d.tool, d.arguments) == ("flight_details", {"flight": "to JFK"})


def test_the_cancellation_policy_is_explained_not_proposed() -> None:
    d = decide(FLIGHT_TOOLS, Item("user", "What is the cancellation policy"))
    assert (d.tool, d.arguments) == ("cancellation_terms", {})


def test_cancelling_is_still_proposed_when_asked_for() -> None:
    d = decide(FLIGHT_TOOLS, Item("user", "Please cancel my Denver flight"))
    assert (d.tool, d.arguments) == ("propose_flight_cancellation", {"flight": "DEN"})


def test_which_hotel_looks_the_stay_up_by_city() -> None:
    d = decide(HOTEL_TOOLS, Item("user", "What hotel am I staying at in New York?"))
    assert (d.tool, d.arguments) == ("list_hotel_stays", {"hotel": "New York"})


@pytest.mark.parametrize(
    "heard",
    [
        "I hope tell them I stay in that in the yard.",
        # a city says which stay, not that its dates should change (a phone call's garble of
        # "What hotel am I staying at in New York?", bench/telephony/phone_latency.py)
        "WAP Hotel, LMI, staying at the new york.",
    ],
)
def test_words_about_a_stay_without_a_request_ask_for_no_dates(heard: str) -> None:
    d = decide(HOTEL_TOOLS, Item("user", heard))
    assert d.tool != "propose_hotel_dates"
    assert d.text is None or "check-in" not in d.text


def test_new_dates_are_still_asked_for_when_the_caller_wants_to_change() -> None:
    d = decide(HOTEL_TOOLS, Item("user", "I'd like to change my hotel dates"))
    assert d.tool is None and d.text is not None and "check-in" in d.text


def test_a_flight_from_an_answered_question_is_not_reused() -> None:
    # "New York" belonged to the hotel question, answered by a tool since
    conv = Conversation(
        items=[
            Item("user", "What hotel am I staying at in New York?"),
            Item("tool", tool=ToolEvent("list_hotel_stays", {}, "You're staying at …")),
            Item("assistant", "You're staying at …"),
            Item("user", "What is the cancellation policy"),
        ]
    )
    args, _ = fill_arguments(FLIGHT_TOOLS[2], conv, TODAY)
    assert args == {}


def test_a_new_question_does_not_take_its_booking_from_an_unanswered_turn_before_it() -> None:
    # a phone call (bench/telephony/phone_latency.py): flite's "What hotel am I staying at in
    # New York?" heard as below, handed to hotels, where the agent asked for dates; the
    # caller's next question is about the trip, not about a booking called "WAP … LMI"
    conv = Conversation(
        items=[
            Item("user", "WAP Hotel, LMI, staying at the new york."),
            Item("tool", tool=ToolEvent("transfer_to_hotels", {}, "")),
            Item("assistant", "Sure. Could you give me the check-in date and the check-out date?"),
            Item("user", "What is the cancellation policy?"),
        ]
    )
    args, _ = fill_arguments(FLIGHT_TOOLS[2], conv, TODAY)
    assert args == {}
    # an answer to our question is not a new question: the request before it still counts
    answering = Conversation(
        items=[
            Item("user", "I need to cancel my flight to Boston"),
            Item("assistant", "Sure. Which flight is it?"),
            Item("user", "the one on Tuesday"),
        ]
    )
    args, _ = fill_arguments(FLIGHT_TOOLS[4], answering, TODAY)
    assert args == {"flight": "to BOS"}  # the earlier turn names the flight


def test_a_specialist_answers_the_request_even_without_the_hand_off_in_its_context() -> None:
    # the greeting landed after the caller's words and the hand-off call was not carried over
    d = decide(
        FLIGHT_TOOLS,
        Item("user", "When does my flight to new york leave"),
        Item("assistant", "Hi Alex, this is Navan travel support. How can I help you today?"),
    )
    assert (d.tool, d.arguments) == ("flight_details", {"flight": "to JFK"})
