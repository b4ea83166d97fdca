"""OnsetVAD: a word's voiceless onset counts toward the speech that pauses the agent; a noise
bed, noise alone and the VAD's start and end of speech are left as Silero has them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from livekit.agents import vad as lk_vad
from tests.unit.speech.conftest import read_16k, synth_caller

from navan_voice.config import load_settings
from navan_voice.speech.audio import FloatArray, array_to_frame
from navan_voice.speech.onset import OnsetVAD
from navan_voice.worker import session_vad

pytestmark = [pytest.mark.unit, pytest.mark.models]

RATE = 16000
MIN_INTERRUPTION_S = 0.1  # the setting's default


def _noise(seconds: float, dbfs: float, seed: int) -> FloatArray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * RATE)) * 10 ** (dbfs / 20)).astype(np.float32)


async def _events(model: lk_vad.VAD, audio: FloatArray) -> list[lk_vad.VADEvent]:
    padded = np.concatenate([audio, np.zeros(RATE, dtype=np.float32)])
    stream = model.stream()
    step = int(0.02 * RATE)
    for pos in range(0, padded.size - step + 1, step):
        stream.push_frame(array_to_frame(padded[pos : pos + step], RATE))
    stream.end_input()
    events = [ev async for ev in stream]
    await stream.aclose()
    return events


def _pause_at(events: list[lk_vad.VADEvent]) -> float | None:
    """Audio time at which livekit would pause the agent (None: never)."""
    return next(
        (
            ev.timestamp
            for ev in events
            if ev.type == lk_vad.VADEventType.INFERENCE_DONE
            and ev.speech_duration >= MIN_INTERRUPTION_S
        ),
        None,
    )


def _bounds(events: list[lk_vad.VADEvent]) -> list[tuple[str, float]]:
    return [
        (ev.type.value, ev.timestamp)
        for ev in events
        if ev.type != lk_vad.VADEventType.INFERENCE_DONE
    ]


@pytest.fixture(scope="module")
def sorry(caller_dir: Path) -> FloatArray:
    """flite's "Sorry, wait.": its "S" is loud ≈0.1 s before Silero hears speech."""
    words = read_16k(synth_caller("Sorry, wait.", "flite", caller_dir))
    return np.concatenate([_noise(0.5, -66.0, 0), words])


async def test_a_hissed_onset_pauses_the_agent_sooner(vad: Any, sorry: FloatArray) -> None:
    silero, onset = await _events(vad, sorry), await _events(OnsetVAD(vad), sorry)
    before, after = _pause_at(silero), _pause_at(onset)
    assert before is not None and after is not None
    assert before - after >= 0.05, (before, after)  # measured: 0.064 s (two Silero windows)
    # start and end of speech, and so the end of the caller's turn, are Silero's own
    assert _bounds(onset) == _bounds(silero)


async def test_a_noise_bed_under_the_words_gets_no_credit(vad: Any, sorry: FloatArray) -> None:
    # loud all along: no onset to credit, the pause comes when Silero alone would give it
    noisy = sorry + _noise(sorry.size / RATE, -40.0, 1)
    assert _pause_at(await _events(OnsetVAD(vad), noisy)) == _pause_at(await _events(vad, noisy))


async def test_noise_alone_never_pauses_the_agent(vad: Any) -> None:
    rustle = np.concatenate([_noise(0.5, -66.0, 2), _noise(0.3, -25.0, 3)])
    events = await _events(OnsetVAD(vad), rustle)
    assert _pause_at(events) is None
    assert not _bounds(events)


def test_calls_get_the_onset_vad_unless_switched_off(
    vad: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(session_vad(load_settings(), vad), OnsetVAD)
    monkeypatch.setenv("NAVAN_BARGE_IN_ONSET", "false")
    assert session_vad(load_settings(), vad) is vad
