"""Barge-in through a real livekit-server and the real worker (Whisper, piper, Silero).

The caller asks for something with a long spoken answer, then, a second into it, either talks
over the agent (the agent must stop and answer the new words) or hums a short "mmm" that holds
no words, or says "okay" (the agent must finish its answer: it pauses, then resumes).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from navan_voice.caller.audio import load_audio, rms_dbfs
from navan_voice.caller.client import LOUD_DBFS, SAMPLE_RATE, Caller
from navan_voice.config import Settings
from navan_voice.db.seed import DEMO_PHONE
from navan_voice.stack.processes import ManagedProcess

WorkerFactory = Callable[[int], ManagedProcess]
IndexedCall = Callable[[str], Awaitable[Any]]

pytestmark = pytest.mark.integration

LONG_ANSWER_QUESTION = "What are my upcoming trips?"
INTO_ANSWER_S = 1.0  # how far into the agent's answer the caller makes a sound


def hum(seconds: float = 0.35, pitch_hz: float = 150.0) -> np.ndarray:
    """A closed-mouth "mmm": a voiced buzz through a nasal-like low-pass, no word in it. Silero
    calls it speech (p ≈ 0.9), so it pauses the agent; Whisper hears nothing in it. (A flite
    "hm" cut this short is sometimes heard as "Hey.", a word, which interrupts.)"""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    phase = 2 * np.pi * np.cumsum(pitch_hz * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))) / SAMPLE_RATE
    buzz = sum(np.sin(k * phase) / k for k in range(1, 25))
    spectrum = np.fft.rfft(buzz)
    freqs = np.fft.rfftfreq(buzz.size, 1 / SAMPLE_RATE)
    voiced = np.fft.irfft(spectrum / (1 + ((freqs - 250) / 300) ** 2), buzz.size)
    envelope = np.minimum(1.0, np.minimum(t / 0.04, (seconds - t) / 0.08))
    shaped = voiced * envelope
    return (0.4 * 32767 * shaped / np.abs(shaped).max()).astype(np.int16)


def loud_seconds_after(caller: Caller, since: float) -> float:
    """Seconds of agent audio above the speech threshold that arrived after ``since``."""
    return sum(
        len(samples) / SAMPLE_RATE
        for at, samples in caller.listener.chunks
        if at > since and rms_dbfs(samples) > LOUD_DBFS
    )


async def sound_over_answer(caller: Caller, sound: np.ndarray) -> float:
    """Make ``sound`` over the agent's answer; return the seconds of agent audio after it."""
    sound_at = time.monotonic() + caller.source.queued_duration
    await caller.speak(sound)
    # a paused answer resumes false_interruption_timeout after the caller's end of speech, which
    # on a loaded machine can be more than any fixed quiet spell: wait for agent audio first
    deadline = time.monotonic() + 20.0
    while not loud_seconds_after(caller, sound_at + 0.5) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await caller.wait_agent_done(60, quiet_s=2.5)  # the rest of the answer
    return loud_seconds_after(caller, sound_at + 0.5)


@asynccontextmanager
async def answering_call(
    settings: Settings, caller_wav: Callable[[str], Path]
) -> AsyncIterator[Caller]:
    """A call from the demo traveller, INTO_ANSWER_S into the agent's answer to a question
    whose answer lasts several seconds (the traveller's trips)."""
    caller = Caller(settings, phone=DEMO_PHONE)
    question = load_audio(caller_wav(LONG_ANSWER_QUESTION), SAMPLE_RATE).samples
    try:
        await caller.connect()
        await caller.wait_for_agent(90)
        await caller.greet(90)
        await caller.speak(question)  # without waiting for the whole reply
        assert await caller.wait_until_agent_talks(60), "the agent did not answer the question"
        await asyncio.sleep(INTO_ANSWER_S)
        # start over the agent's speech, not over a pause between its sentences
        deadline = time.monotonic() + 2.0
        while caller.listener.quiet_for(0.05) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        yield caller
    finally:
        await caller.close()


async def test_caller_talking_over_the_agent_stops_it_and_is_answered(
    stack_settings: Settings, workers: WorkerFactory, caller_wav: Callable[[str], Path]
) -> None:
    workers(0)
    words = load_audio(caller_wav("Sorry, wait. I want to cancel my hotel."), SAMPLE_RATE)
    async with answering_call(stack_settings, caller_wav) as caller:
        agent_lines_before = sum(1 for line in caller.report.transcript if line.speaker == "agent")
        stopped = await caller.interrupt(words.samples)
        # the agent went quiet while the caller was still talking (the trips answer runs for
        # several more seconds; an agent that ignored the caller would talk over all of it)
        assert stopped is not None, "the agent never stopped talking"
        assert stopped < words.duration_s, f"stopped {stopped:.2f}s after the caller began"
        # ...and then answered what the caller said
        assert await caller.wait_until_agent_talks(60), "no reply to the interruption"
        await caller.wait_agent_done(60)
        await asyncio.sleep(1.0)
    caller_lines = [
        line.text.lower() for line in caller.report.transcript if line.speaker != "agent"
    ]
    assert any("hotel" in line or "cancel" in line for line in caller_lines), caller_lines
    agent_lines = [line.text for line in caller.report.transcript if line.speaker == "agent"]
    assert len(agent_lines) > agent_lines_before, caller.report.transcript


async def test_a_short_hum_over_the_agent_does_not_end_its_answer(
    stack_settings: Settings,
    workers: WorkerFactory,
    caller_wav: Callable[[str], Path],
    indexed_call: IndexedCall,
) -> None:
    workers(0)
    async with answering_call(stack_settings, caller_wav) as caller:
        after = await sound_over_answer(caller, hum())
    # the rest of the trips answer was still spoken after the hum (it runs ≥ 5 s in all)
    assert after > 2.0, (after, caller.report.transcript)
    caller_lines = [line.text for line in caller.report.transcript if line.speaker != "agent"]
    assert len(caller_lines) == 1, caller_lines  # only the question: the hum was no words
    # the hum did pause the agent, and it resumed: livekit's false interruption, recorded
    detail = await indexed_call(caller.room_name)
    assert any(turn.false_interruption for turn in detail.turns), detail.turns


async def test_an_okay_over_the_agent_lets_it_go_on(
    stack_settings: Settings,
    workers: WorkerFactory,
    caller_wav: Callable[[str], Path],
    indexed_call: IndexedCall,
) -> None:
    workers(0)
    okay = load_audio(caller_wav("Okay."), SAMPLE_RATE).samples
    async with answering_call(stack_settings, caller_wav) as caller:
        after = await sound_over_answer(caller, okay)
    # the agent paused at the word, then finished the trips answer instead of answering "okay"
    assert after > 2.0, (after, caller.report.transcript)
    detail = await indexed_call(caller.room_name)
    said = [turn.user_text for turn in detail.turns if turn.user_text]
    assert len(said) == 1, said  # only the question: the "okay" was not a turn
    assert any(turn.false_interruption for turn in detail.turns), detail.turns
