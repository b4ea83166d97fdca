"""A reply's later sentences are rendered while it plays (NAVAN_TTS_RENDER_AHEAD_S)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from navan_voice.speech.piper_tts import PiperTTS
from navan_voice.speech.render_pace import RenderPace

pytestmark = pytest.mark.unit

RATE = 22050
SENTENCE_S = 0.5


def test_nothing_waits_before_the_first_audio_or_without_a_lead() -> None:
    pace = RenderPace(1.0, RATE)
    assert pace.wait_s() == 0.0
    unpaced = RenderPace(0.0, RATE)
    unpaced.delivered(b"\0" * 2 * RATE * 10)  # 10 s of audio
    assert unpaced.wait_s() == 0.0


def test_the_wait_is_the_unplayed_audio_beyond_the_lead() -> None:
    pace = RenderPace(1.0, RATE)
    pace.delivered(b"\0" * 2 * RATE * 4)  # 4 s of 16-bit audio, just handed over
    assert pace.audio_s == pytest.approx(4.0)
    assert 2.9 < pace.wait_s() <= 3.0
    pace.delivered(b"\0" * RATE)  # half a second more
    assert 3.4 < pace.wait_s() <= 3.5


@dataclass
class Chunk:
    audio_int16_bytes: bytes


class TimedVoice:
    """Renders each sentence of a text as SENTENCE_S of tone and notes when it was asked to."""

    class config:  # mimics PiperVoice.config
        sample_rate = RATE

    def __init__(self) -> None:
        self.rendered_at: list[float] = []

    def synthesize(self, text: str, syn_config: Any = None) -> Iterator[Chunk]:
        tone = (8000 * np.sin(np.arange(int(SENTENCE_S * RATE)) / 5)).astype(np.int16)
        for _ in text.split("."):
            if not _.strip():
                continue
            self.rendered_at.append(time.monotonic())
            yield Chunk(tone.tobytes())


REPLY = "One is here. Two is here. Three is here. Four is here."


async def _speak(tts: PiperTTS, text: str) -> float:
    """Seconds of audio the reply's ChunkedStream gave."""
    frames = [ev.frame async for ev in tts.synthesize(text)]
    return sum(f.samples_per_channel for f in frames) / RATE


async def test_a_paced_reply_renders_its_later_sentences_as_it_plays() -> None:
    voice = TimedVoice()
    audio_s = await _speak(PiperTTS(voice, render_ahead_s=0.2), REPLY)  # type: ignore[arg-type]
    assert audio_s == pytest.approx(4 * SENTENCE_S, abs=0.01)  # nothing lost
    starts = [t - voice.rendered_at[0] for t in voice.rendered_at]
    # sentence k waits until at most 0.2 s of the k-1 already rendered is unplayed:
    # 0, 0.3, 0.8, 1.3 s after the first
    assert starts[1] >= 0.25
    assert starts[3] >= 1.2


async def test_an_unpaced_reply_renders_all_at_once() -> None:
    voice = TimedVoice()
    await _speak(PiperTTS(voice, render_ahead_s=0.0), REPLY)  # type: ignore[arg-type]
    assert len(voice.rendered_at) == 4
    assert voice.rendered_at[-1] - voice.rendered_at[0] < 0.5


async def test_the_pace_spans_the_pieces_of_a_streamed_reply() -> None:
    voice = TimedVoice()
    tts = PiperTTS(voice, render_ahead_s=0.2)  # type: ignore[arg-type]
    stream = tts.stream()
    stream.push_text("First one is here. Second one is here. Third one is here. ")
    stream.end_input()
    audio_s = sum([ev.frame.samples_per_channel async for ev in stream]) / RATE
    assert audio_s == pytest.approx(3 * SENTENCE_S, abs=0.01)
    # three pieces, one sentence each: the third waits for the first two to play down
    assert len(voice.rendered_at) == 3
    assert voice.rendered_at[2] - voice.rendered_at[0] >= 0.7
    await tts.aclose()


async def test_a_reply_closed_while_it_waits_renders_nothing_more() -> None:
    voice = TimedVoice()
    tts = PiperTTS(voice, render_ahead_s=0.1)  # type: ignore[arg-type]
    stream = tts.synthesize("One is here. Two is here. Three is here. Four is here. Five.")
    async for _ in stream:
        break  # the caller cut in after the first audio
    await stream.aclose()
    rendered = len(voice.rendered_at)
    await asyncio.sleep(1.5)  # the paced render would have done 3 more sentences by now
    assert len(voice.rendered_at) == rendered <= 2
