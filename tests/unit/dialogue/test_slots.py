"""Slot extraction from what a caller says (spoken and typed forms)."""

from __future__ import annotations

import datetime as dt

import pytest

from navan_voice.speech.dialogue import slots

pytestmark = pytest.mark.unit

MONDAY = dt.date(2026, 5, 4)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("my code is NVN7Q2", "NVN7Q2"),
        ("code N V N 7 Q 2 please", "NVN7Q2"),
        ("it's n-v-n seven q two", "NVN7Q2"),
        ("confirmation nvc9d4", "NVC9D4"),
        ("NVN 7Q2", "NVN7Q2"),  # as speech-to-text groups it
        ("My code is NVN-7-Q-2.", "NVN7Q2"),
        ("N.V.N.7.Q.2", "NVN7Q2"),
    ],
)
def test_confirmation_codes(text: str, code: str) -> None:
    assert slots.confirmation_codes(text)[0] == code


def test_flight_number_is_not_a_confirmation_code() -> None:
    assert slots.confirmation_codes("cancel UA1542") == []
    assert slots.confirmation_codes("cancel UA 1542 on the 2nd") == []
    assert slots.flight_numbers("cancel UA 1542 please") == ["UA1542"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("next Tuesday", dt.date(2026, 5, 5)),
        ("on Monday", dt.date(2026, 5, 11)),  # today is Monday: the next one
        ("tomorrow", dt.date(2026, 5, 5)),
        ("the day after tomorrow", dt.date(2026, 5, 6)),
        ("May 20th", dt.date(2026, 5, 20)),
        ("the 20th of May", dt.date(2026, 5, 20)),
        ("March 3", dt.date(2027, 3, 3)),  # passed this year: next year's
        ("2026-06-01", dt.date(2026, 6, 1)),
        ("in three days", dt.date(2026, 5, 7)),
        ("the 14th", dt.date(2026, 5, 14)),
    ],
)
def test_dates_relative_to_today(text: str, expected: dt.date) -> None:
    assert slots.dates(text, MONDAY)[0] == expected


def test_no_date_in_plain_words() -> None:
    assert slots.dates("I want an earlier flight", MONDAY) == []


def test_a_second_date_said_is_not_before_the_first() -> None:
    # on December 7: December 4 is past (next year), so December 7 after it is next year too
    december_7 = dt.date(2026, 12, 7)
    assert slots.dates("check in December 4 and check out December 7", december_7) == [
        dt.date(2027, 12, 4),
        dt.date(2027, 12, 7),
    ]
    assert slots.dates("from December 28 to January 3", december_7) == [
        dt.date(2026, 12, 28),
        dt.date(2027, 1, 3),
    ]


def test_two_dates_keep_their_order() -> None:
    assert slots.dates("from May 12 to May 15", MONDAY) == [
        dt.date(2026, 5, 12),
        dt.date(2026, 5, 15),
    ]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("my name is Ada Lovelace", ("Ada", "Lovelace")),
        ("last name Rivera", (None, "Rivera")),
        ("This is Alex Rivera, code N V N 7 Q 2", ("Alex", "Rivera")),
        ("I'm calling about my flight", (None, None)),
    ],
)
def test_person_names(text: str, names: tuple[str | None, str | None]) -> None:
    assert slots.person_names(text) == names


@pytest.mark.parametrize("text", ["yes", "Yeah, go ahead", "ok do it", "well, yes please"])
def test_yes(text: str) -> None:
    assert slots.is_yes(text) and not slots.is_no(text)


@pytest.mark.parametrize("text", ["no", "actually no", "don't cancel", "no wait"])
def test_no(text: str) -> None:
    assert slots.is_no(text) and not slots.is_yes(text)


@pytest.mark.parametrize("text", ["", "   ", "uh mm", "[noise]", "(inaudible)", "<unk> hmm"])
def test_garbled(text: str) -> None:
    assert slots.is_garbled(text)


@pytest.mark.parametrize("text", ["I need help", "yes", "UA 1542"])
def test_not_garbled(text: str) -> None:
    assert not slots.is_garbled(text)


@pytest.mark.parametrize(
    ("text", "n"),
    [("the second one", 2), ("option 3", 3), ("number two", 2), ("Two.", 2), ("hmm", None),
     ("First, please.", 1), ("I'll take the third", 3), ("the last one", -1),
     # ordinal words that pick nothing
     ("Let me first check my hotel dates", None), ("Hold on a second", None),
     ("I need to sort out my hotel first", None)],
)  # fmt: skip
def test_ordinal(text: str, n: int | None) -> None:
    assert slots.ordinal(text) == n


@pytest.mark.parametrize(
    ("text", "plain"),
    [("Yes", True), ("Yes, please go ahead.", True), ("That's fine, thank you", True),
     ("Yes, cancel it", True),  # "cancel" is in the read-back it answers
     ("Yes, that's what I want.", True), ("Yep, go for it", True), ("Yes, I'm sure", True),
     ("Sure thing", True), ("Yes, no problem", True), ("Yes, please cancel my flight", True),
     ("Yes, the third one", False), ("Yes, to Boston", False),
     ("Yes, and change my hotel too", False),
     ("Yes, but make it Friday instead", False), ("Okay wait", False),
     ("Sure, how much is it?", False), ("Yes, I want to change my hotel dates", False),
     ("No", False)],
)  # fmt: skip
def test_plain_yes(text: str, plain: bool) -> None:
    question = "To confirm: I'll cancel UA 1542. Shall I go ahead?"
    assert slots.is_plain_yes(text, question) is plain


def test_phone_numbers() -> None:
    assert slots.phone_numbers("call me on (415) 555-0123") == ["+14155550123"]
    assert slots.phone_numbers("four one five five five five zero one two three") == [
        "+14155550123"
    ]


def test_times_of_day() -> None:
    assert slots.times_of_day("around 9 am") == ["09:00"]
    assert slots.times_of_day("in the evening") == ["evening"]


def test_cities_name_airports() -> None:
    assert slots.city_airports("from San Francisco to London") == ["SFO", "LHR"]
    assert slots.city_airports("my flight") == []


@pytest.mark.parametrize(
    ("text", "leg"),
    [("cancel my return flight please", "return"), ("the flight back home", "return"),
     ("move the outbound to Friday", "outbound"), ("my flight to Boston", None)],
)  # fmt: skip
def test_trip_leg(text: str, leg: str | None) -> None:
    assert slots.trip_leg(text) == leg


@pytest.mark.parametrize(
    ("text", "option"),
    [("not that one, the third", 3), ("not the first one, the second", 2),
     ("no, not the first one", None), ("not option 2", None), ("the third one", 3)],
)  # fmt: skip
def test_an_option_ruled_out_is_not_the_pick(text: str, option: int | None) -> None:
    assert slots.ordinal(text) == option


@pytest.mark.parametrize(
    ("text", "expected"),
    [("not on Friday, Saturday", [dt.date(2026, 5, 9)]),
     ("no, not the 14th", []),
     ("no, not the one on Friday", []),
     ("no, not this coming Friday", []),
     ("if not tomorrow then Friday", [dt.date(2026, 5, 8)]),
     ("not later than the 14th", [dt.date(2026, 5, 14)]),
     ("I'm not flying on the 14th anymore, move it to the 15th", [dt.date(2026, 5, 15)]),
     ("it's not the 14th it's the 15th", [dt.date(2026, 5, 15)]),
     ("I'm not going to make UA 1542 so move me to Friday", [dt.date(2026, 5, 8)]),
     ("not earlier than the 15th", [dt.date(2026, 5, 15)]),
     ("is it not possible to get the 15th", [dt.date(2026, 5, 15)]),
     ("No, not the one on the 14th", [])],
)  # fmt: skip
def test_a_date_ruled_out_is_not_one_of_the_dates(text: str, expected: list[dt.date]) -> None:
    assert slots.dates(text, MONDAY) == expected


@pytest.mark.parametrize(
    ("text", "option"),
    [("not the very first one", None), ("why not the second one", 2),
     ("not the first but the third", 3), ("I'm not flexible so the first one please", 1),
     ("I do not want option 1 give me option 3", 3), ("not that one the third", 3),
     ("I'm not certain maybe the second one", 2)],
)  # fmt: skip
def test_ruling_out_runs_to_where_the_sentence_turns(text: str, option: int | None) -> None:
    assert slots.ordinal(text) == option
