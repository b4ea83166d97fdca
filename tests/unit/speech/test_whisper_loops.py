"""What is left of a Whisper decoding loop is the phrase said once."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from navan_voice.speech.whisper_engine import (
    Transcription,
    WhisperEngine,
    collapse_loop,
    collapse_repeated_sentences,
)

pytestmark = [pytest.mark.unit]

# one second of a 220 Hz tone: audio loud enough to be decoded (the decoder is stubbed)
TONE = (0.1 * np.sin(np.arange(16000) * 2 * np.pi * 220 / 16000)).astype(np.float32)


@pytest.mark.parametrize(
    ("looped", "said"),
    [
        ("Chicago, Chicago, Chicago, Chicago, Chicago, Chicago,", "Chicago,"),
        # cut off by the token cap in the middle of a repeat
        ("San Francisco, San Francisco, San Francisco, San Francisco, San", "San Francisco,"),
        (
            "Book the cheapest fare on, that route. Book the cheapest fare on, that route. "
            "Book the cheapest fare on, that route. Book the cheapest fare on, that",
            "Book the cheapest fare on, that route.",
        ),
        (
            "Can you cancel my hotel in Chicago Chicago Chicago Chicago",
            "Can you cancel my hotel in Chicago",
        ),
    ],
)
def test_a_loop_is_kept_once(looped: str, said: str) -> None:
    assert collapse_loop(looped) == said


@pytest.mark.parametrize(
    "text",
    ["Chicago, Chicago, please.", "My code is A B C one two three.", "I need to change my flight."],
)
def test_text_without_a_loop_is_unchanged(text: str) -> None:
    assert collapse_loop(text) == text


@pytest.mark.models
def test_the_engine_collapses_a_loop_its_decoder_could_not_escape(
    engine: WhisperEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = "Chicago, " * 14

    def looping(*_: Any, **__: Any) -> Transcription:
        return Transcription(loop.strip(), avg_logprob=-0.3)

    monkeypatch.setattr(engine, "_generate", looping)  # both windows loop
    assert engine.transcribe(TONE).text == "Chicago,"
    # a short repeat is what the caller may well have said: left alone
    monkeypatch.setattr(engine, "_generate", lambda *_, **__: Transcription("Chicago, Chicago."))
    assert engine.transcribe(TONE).text == "Chicago, Chicago."


@pytest.mark.parametrize(
    ("looped", "said"),
    [
        # beam search over a short phrase in the padded window (festival, 8 kHz, beam 2)
        (
            "Please add my loyalty number to the booking. Please add my loyalty number to the "
            "booking. Please add my loyalty number to the booking.",
            "Please add my loyalty number to the booking.",
        ),
        (
            "What is the status of my expense report for the London trip? What is the status "
            "of my expense report for the London trip?",
            "What is the status of my expense report for the London trip?",
        ),
        ("Hello, can you hear me? Hello, can you hear me", "Hello, can you hear me?"),
    ],
)
def test_a_sentence_repeated_straight_after_itself_is_kept_once(looped: str, said: str) -> None:
    assert collapse_repeated_sentences(looped) == said


@pytest.mark.parametrize(
    "text",
    [
        "Yes. Yes.",  # short: what callers do say
        "I need a refund, I need a refund.",  # one sentence
        "Cancel my hotel. Then cancel my flight. Cancel my hotel.",  # not straight after
    ],
)
def test_short_or_separate_repeats_are_left_alone(text: str) -> None:
    assert collapse_repeated_sentences(text) == text


@pytest.mark.models
def test_the_engine_keeps_a_repeated_sentence_once(
    engine: WhisperEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    twice = "Please add my loyalty number. Please add my loyalty number."
    monkeypatch.setattr(engine, "_generate", lambda *_, **__: Transcription(twice))
    assert engine.transcribe(TONE).text == "Please add my loyalty number."
