"""What the local piper voice is given: money, clock times and flight numbers as they are said."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from navan_voice.speech.piper_tts import PiperTTS
from navan_voice.speech.speakable import speakable

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("$425 would become a travel credit", "425 dollars would become a travel credit"),
        ("a refund of $1,250.50", "a refund of 1,250 dollars 50 cents"),
        ("$1 or $3.00", "1 dollar or 3 dollars"),
        ("departs at 8:00 AM", "departs at 8 AM"),
        ("arrives at 4:30 PM", "arrives at 4 30 PM"),
        ("at 14:05", "at 14 oh 5"),
        ("check in at 3:00 p.m.", "check in at 3 p.m."),
        ("at 9:00, then", "at 9 o'clock, then"),
        ("UA 1542 from SFO", "U.A 15 42 from SFO"),
        ("B6 915 and DL 100", "B 6 9 15 and D.L 1 hundred"),
        ("AA 1005", "A.A 10 oh 5"),
    ],
)
def test_money_times_and_flight_numbers_are_written_as_said(text: str, said: str) -> None:
    assert speakable(text) == said


@pytest.mark.parametrize(
    "text",
    ["trip NV7K2Q", "on December 4, 2026", "in 1999", "terminal 7", "3 nights", "code AB12"],
)
def test_codes_dates_and_plain_numbers_are_left_alone(text: str) -> None:
    assert speakable(text) == text


async def test_piper_is_given_the_speakable_text() -> None:
    given: list[str] = []

    class RecordingVoice:
        class config:  # mimics PiperVoice.config
            sample_rate = 22050

        def synthesize(self, text: str, syn_config: Any = None) -> Any:
            given.append(text)

            class Chunk:
                audio_int16_bytes = np.full(2205, 1000, dtype=np.int16).tobytes()

            return iter([Chunk()])

    tts = PiperTTS(RecordingVoice())  # type: ignore[arg-type]
    async for _ in tts.synthesize("UA 1542 costs $425."):
        pass
    assert given == ["U.A 15 42 costs 425 dollars."]
