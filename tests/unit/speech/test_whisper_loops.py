"""What is left of a Whisper decoding loop is the phrase said once."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from navan_voice.speech.whisper_engine import Transcription, WhisperEngine, collapse_loop

pytestmark = [pytest.mark.unit]


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
    tone = (0.1 * np.sin(np.arange(16000) * 2 * np.pi * 220 / 16000)).astype(np.float32)
    assert engine.transcribe(tone).text == "Chicago,"
    # a short repeat is what the caller may well have said: left alone
    monkeypatch.setattr(engine, "_generate", lambda *_, **__: Transcription("Chicago, Chicago."))
    assert engine.transcribe(tone).text == "Chicago, Chicago."
