"""EarlyEndVAD on Silero and real caller speech: asked at a pause, it ends the speech there (the
quiet so far as its silence), keeps the VAD's own end for that segment to itself, reports the
caller speaking again as a new start, and never ends speech that is still going on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from livekit.agents import vad as lk_vad

from navan_voice.speech.audio import FloatArray, array_to_frame
from navan_voice.speech.early_end import EarlyEndVAD

from .conftest import read_16k, silence, synth_caller

pytestmark = [pytest.mark.unit, pytest.mark.models]

RATE = 16000
VAD_SILENCE_S = 0.55  # the fixture's Silero
MIN_INTERRUPTION_S = 0.1  # speech livekit interrupts the agent on (the setting's default)
START, END = lk_vad.VADEventType.START_OF_SPEECH, lk_vad.VADEventType.END_OF_SPEECH
INFERENCE = lk_vad.VADEventType.INFERENCE_DONE


def _trimmed(audio: FloatArray) -> FloatArray:
    loud = np.nonzero(np.abs(audio) > 0.01)[0]
    return audio[loud[0] : loud[-1] + 1]


Ask = Callable[[lk_vad.VADEvent, list[bool]], bool]


def _at_quiet(quiet_s: float) -> Ask:
    """Ask once, when the caller has been quiet ``quiet_s`` inside a segment."""
    return lambda ev, answers: (
        ev.type == INFERENCE
        and ev.speaking
        and ev.raw_accumulated_silence >= quiet_s
        and not answers
    )


async def _events(
    model: EarlyEndVAD, audio: FloatArray, *, ask: Ask | None
) -> tuple[list[lk_vad.VADEvent], list[bool]]:
    """Run ``audio`` (then 1 s of quiet) through a stream, asking for the early end after each
    event ``ask`` picks (given the answers so far); the events and the answers are returned."""
    stream = model.stream()
    padded = np.concatenate([audio, silence(1.0)])
    step = int(0.02 * RATE)
    for pos in range(0, padded.size - step + 1, step):
        stream.push_frame(array_to_frame(padded[pos : pos + step], RATE))
    stream.end_input()
    events: list[lk_vad.VADEvent] = []
    answers: list[bool] = []
    async for ev in stream:
        events.append(ev)
        if ask is not None and ask(ev, answers):
            answers.append(model.end_speech_now())
    await stream.aclose()
    return events, answers


def _bounds(events: list[lk_vad.VADEvent]) -> list[tuple[lk_vad.VADEventType, float]]:
    return [(ev.type, ev.timestamp) for ev in events if ev.type in (START, END)]


@pytest.fixture(scope="module")
def question(caller_dir: Path) -> FloatArray:
    return _trimmed(read_16k(synth_caller("When does my flight leave?", "festival", caller_dir)))


async def test_asked_at_a_pause_the_speech_ends_there(vad: Any, question: FloatArray) -> None:
    plain, _ = await _events(EarlyEndVAD(vad), question, ask=None)
    model = EarlyEndVAD(vad)
    early, answers = await _events(model, question, ask=_at_quiet(0.15))
    assert answers == [True] and (model.ended, model.resumed) == (1, 0)
    (start, plain_end), (_, early_end) = _bounds(plain), _bounds(early)
    assert [kind for kind, _ in _bounds(early)] == [START, END]  # Silero's own END is swallowed
    assert _bounds(early)[0] == start  # the start is Silero's own
    # ended 0.15-0.2 s into the quiet, not at the VAD's 0.55 s; dated back to the last speech
    assert plain_end[1] - early_end[1] >= VAD_SILENCE_S - 0.25
    end_ev = next(ev for ev in early if ev.type == END)
    assert 0.15 <= end_ev.silence_duration < 0.25
    # after it, nothing livekit would take for the caller speaking over the agent's answer
    after = early[early.index(end_ev) + 1 :]
    assert not any(ev.speaking or ev.speech_duration >= MIN_INTERRUPTION_S for ev in after)


async def test_a_caller_who_goes_on_starts_speaking_again(vad: Any, caller_dir: Path) -> None:
    head = _trimmed(read_16k(synth_caller("I need to change my flight", "festival", caller_dir)))
    rest = _trimmed(read_16k(synth_caller("to Boston next Tuesday.", "festival", caller_dir)))
    audio = np.concatenate([head, silence(0.4), rest])
    plain, _ = await _events(EarlyEndVAD(vad), audio, ask=None)
    assert [kind for kind, _ in _bounds(plain)] == [START, END]  # 0.4 s: one segment to Silero
    model = EarlyEndVAD(vad)
    events, answers = await _events(model, audio, ask=_at_quiet(0.15))
    assert answers == [True]
    assert (model.ended, model.resumed) == (1, 1)  # counted: the call logs how often it erred
    bounds = _bounds(events)
    assert [kind for kind, _ in bounds] == [START, END, START, END]
    resumed_at = bounds[2][1]
    assert head.size / RATE + 0.4 <= resumed_at <= head.size / RATE + 0.4 + 0.25
    assert bounds[3] == _bounds(plain)[1]  # the caller's real end of speech is Silero's own
    # the resumed speech is counted from the resumption, not from the start of the sentence
    # (Silero's own count runs on through the pause and the trailing quiet)
    plain_speech = next(ev for ev in plain if ev.type == END).speech_duration
    resumed_speech = [ev for ev in events if ev.type == END][-1].speech_duration
    assert resumed_speech <= rest.size / RATE + 0.1 < plain_speech - 0.5


async def test_no_early_end_while_the_caller_speaks(vad: Any, question: FloatArray) -> None:
    def mid_word(ev: lk_vad.VADEvent, _: list[bool]) -> bool:
        return ev.type == INFERENCE and ev.speaking and ev.probability > 0.9

    events, answers = await _events(EarlyEndVAD(vad), question, ask=mid_word)
    assert answers and not any(answers)  # asked mid-word: refused every time
    plain, _ = await _events(EarlyEndVAD(vad), question, ask=None)
    assert _bounds(events) == _bounds(plain)
