"""One benchmark call through the real server, and what it measured.

The caller is navan_voice.caller.client.Caller. Its ``say`` times a latency from the caller's
last sound (the last frame above -45 dBFS, not the end of the 0.15 s of quiet that
``split_utterances`` keeps after it), as a person hears it; that latency is used as it is.
(Until 2026-12-06 this module added the trailing quiet once more, a correction from before
``say`` did it itself: every voice-to-voice number was 0.09-0.15 s too long; bench/REPORT.md,
session 14.) Gaps inside an agent utterance (underruns) are found from the received frames.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from navan_voice.caller import audio
from navan_voice.caller.audio import rms_dbfs
from navan_voice.caller.client import LOUD_DBFS, SAMPLE_RATE, Caller
from navan_voice.config import Settings

logger = logging.getLogger(__name__)

QUIET_DBFS = -45.0  # the caller's end of speech: the last frame above this
MAX_GAP_IN_UTTERANCE_S = 0.3  # quiet runs shorter than this inside agent speech are gaps


def trailing_quiet_s(samples: np.ndarray) -> float:
    """Seconds of quiet (below -45 dBFS) at the end of an utterance."""
    return audio.trailing_quiet_s(samples, SAMPLE_RATE, QUIET_DBFS)


@dataclass
class Gaps:
    """Underruns seen at the caller: quiet runs inside agent speech, and late frames."""

    utterances: int = 0
    gaps: int = 0  # quiet runs (>= 20 ms, < 300 ms) inside an agent utterance
    gap_s: float = 0.0
    late_frames: int = 0  # frames that arrived > 60 ms after the one before, inside speech

    def as_dict(self) -> dict[str, Any]:
        return {
            "utterances": self.utterances,
            "gaps": self.gaps,
            "gap_s": round(self.gap_s, 3),
            "late_frames": self.late_frames,
        }


def find_gaps(chunks: list[tuple[float, np.ndarray]]) -> Gaps:
    """Quiet runs inside agent speech and late frames, from the caller's received frames."""
    result = Gaps()
    if not chunks:
        return result
    loud = [rms_dbfs(samples) > LOUD_DBFS for _, samples in chunks]
    frame_s = [len(samples) / SAMPLE_RATE for _, samples in chunks]
    in_speech = False
    quiet_run = 0.0
    for i, is_loud in enumerate(loud):
        if is_loud:
            if not in_speech:
                result.utterances += 1
                in_speech = True
            elif quiet_run >= 0.02:
                result.gaps += 1
                result.gap_s += quiet_run
            quiet_run = 0.0
            if i > 0 and loud[i - 1] and chunks[i][0] - chunks[i - 1][0] > 0.06:
                result.late_frames += 1
        elif in_speech:
            quiet_run += frame_s[i]
            if quiet_run >= MAX_GAP_IN_UTTERANCE_S:
                in_speech = False
                quiet_run = 0.0
    return result


@dataclass
class CallResult:
    room: str
    ok: bool = False
    error: str = ""
    joined_s: float | None = None  # dispatch → agent in the room
    greeting_s: float | None = None  # agent joined → first greeting audio
    latencies_s: list[float | None] = field(default_factory=list)
    bargein_s: float | None = None
    after_s: float = 0.0  # barge-in: seconds into the agent's speech
    caller: str = ""  # barge-in: the caller's voice and rate, e.g. "flite 16000"
    gaps: Gaps = field(default_factory=Gaps)
    transcript: list[tuple[str, str]] = field(default_factory=list)
    # per answered utterance: wall-clock of the caller's last sound and of the agent's first
    # loud frame (Caller.report.turn_walls), to line up with the worker's own turn metrics
    turn_walls: list[tuple[float, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "room": self.room,
            "ok": self.ok,
            "error": self.error,
            "joined_s": self.joined_s,
            "greeting_s": self.greeting_s,
            "latencies_s": self.latencies_s,
            "bargein_s": self.bargein_s,
            "after_s": self.after_s,
            "caller": self.caller,
            "gaps": self.gaps.as_dict(),
            "transcript": self.transcript,
            "turn_walls": self.turn_walls,
        }


async def conversation(
    settings: Settings,
    utterances: list[np.ndarray],
    *,
    reply_timeout: float,
    agent_timeout: float = 60.0,
    settle_s: float = 0.0,
    phone: str = "",
) -> CallResult:
    """Greeting, then each utterance in turn; latency per utterance (None: no reply).
    ``settle_s``: a pause after the greeting (lets a busy worker finish starting processes).
    ``phone``: the caller's number in the dispatch metadata (a known traveller is identified)."""
    caller = Caller(settings, phone=phone, progress=lambda msg: logger.debug("%s", msg))
    result = CallResult(room=caller.room_name)
    try:
        started = time.monotonic()
        await caller.connect()
        await caller.wait_for_agent(agent_timeout)
        result.joined_s = round(time.monotonic() - started, 3)
        await caller.greet(reply_timeout)
        result.greeting_s = caller.report.greeting_s
        if settle_s:
            await asyncio.sleep(settle_s)
        for utterance in utterances:
            latency = await caller.say(utterance, reply_timeout)
            result.latencies_s.append(None if latency is None else round(latency, 3))
        result.ok = all(x is not None for x in result.latencies_s)
    except Exception as e:
        result.error = f"{type(e).__name__}: {e}"
        logger.warning("call %s failed: %s", result.room, result.error)
    finally:
        await _close(caller)
    result.gaps = find_gaps(caller.listener.chunks)
    result.turn_walls = list(caller.report.turn_walls)
    result.transcript = [(line.speaker, line.text) for line in caller.report.transcript]
    return result


async def barge_in(
    settings: Settings,
    utterance: np.ndarray,
    *,
    after_s: float = 1.0,
    agent_timeout: float = 60.0,
) -> CallResult:
    """Speak over the agent's greeting ``after_s`` after it starts; time until it stops."""
    caller = Caller(settings, progress=lambda msg: logger.debug("%s", msg))
    result = CallResult(room=caller.room_name)
    try:
        await caller.connect()
        await caller.wait_for_agent(agent_timeout)
        if not await caller.wait_until_agent_talks(agent_timeout):
            raise TimeoutError("the agent never greeted")
        await asyncio.sleep(after_s)
        # start over speech, not over a pause between the agent's sentences
        deadline = time.monotonic() + 2.0
        while caller.listener.quiet_for(0.05) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        # the onset of our speech is the first loud frame of the utterance, not its padding
        onset = time.monotonic() + caller.source.queued_duration + _leading_quiet_s(utterance)
        await caller.interrupt(utterance)  # speaks; returns at the agent's first 0.3 s of quiet
        await asyncio.sleep(STOPPED_QUIET_S + 0.2)
        stop = stopped_at(caller.listener.chunks, onset)
        result.bargein_s = None if stop is None else round(stop - onset, 3)
        result.ok = result.bargein_s is not None
        if not result.ok:
            result.error = "the agent was not talking at our onset, or did not stop"
    except Exception as e:
        result.error = f"{type(e).__name__}: {e}"
        logger.warning("call %s failed: %s", result.room, result.error)
    finally:
        await _close(caller)
    result.transcript = [(line.speaker, line.text) for line in caller.report.transcript]
    return result


STOPPED_QUIET_S = 0.8  # the agent has stopped: this long without a loud frame (not a pause)


def stopped_at(chunks: list[tuple[float, np.ndarray]], onset: float) -> float | None:
    """When the agent's audio stopped after ``onset``: the last loud frame before the first
    quiet stretch of STOPPED_QUIET_S (a pause between sentences is shorter). None when the
    agent was already quiet at ``onset`` or never went quiet."""
    last_loud: float | None = None
    for at, samples in chunks:
        if rms_dbfs(samples) > LOUD_DBFS:
            if last_loud is not None and at > onset and at - last_loud >= STOPPED_QUIET_S:
                return last_loud if last_loud >= onset else None
            last_loud = at
        elif last_loud is not None and at > onset and at - last_loud >= STOPPED_QUIET_S:
            return last_loud if last_loud >= onset else None
    return None


def _leading_quiet_s(samples: np.ndarray) -> float:
    return trailing_quiet_s(samples[::-1].copy())


async def _close(caller: Caller) -> None:
    try:
        await asyncio.wait_for(caller.close(), 20.0)
    except Exception as e:
        logger.warning("closing call %s: %s", caller.room_name, e)
