"""A pause (the caller's voice over the agent) drops the agent's queued audio at once, on
livekit's real room output and audio source (no server: the track is never published)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
from livekit import rtc
from livekit.agents.voice.room_io._output import _ParticipantAudioOutput

from navan_voice.playout import stop_queued_audio_on_pause

pytestmark = pytest.mark.unit

RATE = 24000


def _frame(seconds: float) -> rtc.AudioFrame:
    n = int(seconds * RATE)
    tone = (np.sin(np.arange(n) * 2 * np.pi * 440 / RATE) * 8000).astype(np.int16)
    return rtc.AudioFrame(tone.tobytes(), RATE, 1, n)


@pytest.fixture
async def output() -> AsyncIterator[_ParticipantAudioOutput]:
    out = _ParticipantAudioOutput(
        rtc.Room(),
        sample_rate=RATE,
        num_channels=1,
        track_publish_options=rtc.TrackPublishOptions(),
    )
    # what start() does, less publishing the track
    out._subscribed_fut.set_result(None)
    out._forwarding_task = asyncio.create_task(out._forward_audio())
    try:
        yield out
    finally:
        await out.aclose()


async def _speaking(out: _ParticipantAudioOutput, finished: list[Any]) -> None:
    """One second of reply audio pushed; waits until the source's 200 ms queue has filled."""
    out.on("playback_finished", finished.append)
    await out.capture_frame(_frame(1.0))
    out.flush()
    for _ in range(100):
        if out._audio_source.queued_duration > 0.12:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the audio source never queued the reply")


async def test_livekit_alone_keeps_playing_its_queue_after_a_pause(
    output: _ParticipantAudioOutput,
) -> None:
    # the behaviour this module mends: without it the queue is still there after pause()
    await _speaking(output, [])
    output.pause()
    assert output._audio_source.queued_duration > 0.1


async def test_a_pause_drops_the_queued_audio_and_keeps_the_playhead(
    output: _ParticipantAudioOutput,
) -> None:
    assert stop_queued_audio_on_pause(output)
    finished: list[Any] = []
    await _speaking(output, finished)
    output.pause()
    assert output._audio_source.queued_duration == 0.0
    dropped = output._source_discarded_duration
    assert dropped > 0.1  # bookkept as never played, the way livekit bookkeeps its own drop

    # the caller's sound was no words: the reply resumes after the dropped audio, and plays on
    output.resume()
    for _ in range(100):
        if output._audio_source.queued_duration > 0.1:
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the reply did not resume after the pause")

    # a real interruption then: what the caller heard excludes the dropped audio
    output.clear_buffer()
    for _ in range(100):
        if finished:
            break
        await asyncio.sleep(0.01)
    assert finished and finished[0].interrupted
    assert finished[0].playback_position <= 1.0 - dropped


def test_other_outputs_are_left_alone() -> None:
    assert not stop_queued_audio_on_pause(None)
    assert not stop_queued_audio_on_pause(object())
