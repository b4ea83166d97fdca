"""End of turn from the words: what makes the session wait, what lets it answer at once."""

from __future__ import annotations

import asyncio

import pytest
from livekit.agents import llm

from navan_voice.speech.text_turn import (
    COMPLETE,
    INCOMPLETE,
    TextTurnDetector,
    end_of_turn_probability,
    sure_end_of_turn,
)


@pytest.mark.parametrize(
    "transcript",
    [
        "I want to change my flight to",
        "I'd like to cancel my hotel in",
        "Can you move me to the",
        "My confirmation code is",
        "My confirmation code is N V N",
        "my code is n-v-n-7",
        "My confirmation code is ABC.",
        "I need to change my flight and",
        "I'd like",
        "I would like to",
        "So I was wondering if...",
        "I want to change my flight, um,",
        "I want to book a flight from San Francisco to New York on the",
        "Can I change my flight to?",
        "Hi, so I",
        "What do I",
        "I need to get to New",
    ],
)
def test_a_caller_who_stops_mid_request_is_waited_for(transcript: str) -> None:
    assert end_of_turn_probability(transcript) == INCOMPLETE


@pytest.mark.parametrize(
    "transcript",
    [
        "I want to change my flight to Boston.",
        "My confirmation code is N V N 7 Q 2.",
        "What hotel am I staying at?",
        "Which flight am I on?",
        "Where am I flying from",
        "I'd like to check in",
        "Yes it is.",
        "Yes, I would.",
        "Cancel my hotel.",
        "yes",
        "So do I.",
        "I'm staying at the new",  # Whisper's "...in New York?" once: not a city cut in two
        "Thank you",
        "No thanks.",
        "Can I get a human?",
        "My flight leaves at 3 p.m.",
        "My employee number is 4 5 6 7",
        "My confirmation code is NVN7Q2.",
        "",
    ],
)
def test_a_finished_request_is_answered_at_once(transcript: str) -> None:
    assert end_of_turn_probability(transcript) == COMPLETE


def test_the_detector_reads_the_newest_caller_message() -> None:
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="user", content="I want to change my flight to Boston.")
    ctx.add_message(role="assistant", content="Which date?")
    ctx.add_message(role="user", content="The one on the")
    detector = TextTurnDetector()

    probability = asyncio.run(detector.predict_end_of_turn(ctx))
    threshold = asyncio.run(detector.unlikely_threshold(None))

    assert threshold is not None and probability < threshold


def test_the_rules_are_english_only() -> None:
    detector = TextTurnDetector()
    assert asyncio.run(detector.supports_language(None))
    assert not asyncio.run(detector.supports_language("fr"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("transcript", "finished"),
    [
        ("What hotel am I staying at", True),
        ("Who am I speaking to", True),
        ("What is the cancellation policy for", False),
        ("What hotel am I staying at in", False),
        ("When does my flight to", False),
    ],
)
def test_a_wh_question_may_end_on_its_preposition(transcript: str, finished: bool) -> None:
    assert (end_of_turn_probability(transcript) == COMPLETE) is finished


@pytest.mark.parametrize(
    "text",
    [
        "When does my flight to New York leave?",
        "Can you cancel my hotel in Chicago?",
        "when does my flight to new york leave",  # Whisper at 16 kHz often writes no full stop
        "I need to change my flight to Boston next Tuesday.",
        "Yes.",
        "No, that's all.",
        "Thank you.",
        "The second one.",
    ],
)
def test_a_finished_request_is_sure_enough_to_end_the_turn_early(text: str) -> None:
    assert sure_end_of_turn(text)


@pytest.mark.parametrize(
    "text",
    [
        "I need to change my flight to",  # the rules wait
        "I need to change my flight.",  # "...my flight | to Boston": callers go on after it
        "Is there an earlier flight?",
        "Can you move my return flight?",
        "My confirmation code is N V.",  # a code being spelled
        "I'd like to fly UA.",  # an airline's letters before the number
        "Hi.",
        "Can you tell me?",
        "",
    ],
)
def test_words_callers_go_on_after_wait_the_ordinary_silence(text: str) -> None:
    assert not sure_end_of_turn(text)
