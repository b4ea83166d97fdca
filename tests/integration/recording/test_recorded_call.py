"""A real AgentSession (no room) recorded end to end: the caller (espeak-ng) asks to change a
flight, the agent pauses the recording, the caller reads a card number, the agent resumes.
The card's span is silence in the Ogg file, and the digits are in neither transcript,
metadata, database nor logs."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from livekit.agents import Agent, AgentSession
from tests.fakes.card import CARD_DIGITS
from tests.fakes.scripted_llm import ScriptedLLM, call, say
from tests.integration.recording.harness import RATE, CallerInput, Speaker, ToneTTS, speak

from navan_voice.config import Settings
from navan_voice.db.engine import make_session_factory, upgrade_database
from navan_voice.recording.api import RECORDING_TOOLS, attach
from navan_voice.recording.index import get_call
from navan_voice.recording.redaction import install_log_redaction

pytestmark = pytest.mark.integration

CARD_WORDS = "four one one one, one one one one, one one one one, one one one one"


@dataclass
class State:
    call_id: str = "rec-test-1"
    room: str = "call-rec-test-1"
    channel: str = "phone"
    caller_phone: str = "+14155550123"
    tags: dict[str, Any] = field(default_factory=dict)


def _decode(path: Path) -> tuple[np.ndarray, int]:
    """(channels, samples) float32 and the rate, decoded with PyAV (libopus)."""
    with av.open(str(path)) as f:
        stream = f.streams.audio[0]
        assert stream.codec_context.channels == 2
        chunks = [fr.to_ndarray() for fr in f.decode(stream)]
        rate = stream.codec_context.sample_rate
    return np.concatenate(chunks, axis=1), rate


async def test_recorded_call_pauses_over_card(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from livekit.plugins import silero

    from navan_voice.speech.whisper_engine import WhisperEngine
    from navan_voice.speech.whisper_stt import WhisperSTT

    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    db_url = f"sqlite:///{tmp_path / 'calls.db'}"
    upgrade_database(db_url)
    factory = make_session_factory(db_url)
    settings = Settings(data_dir=tmp_path)

    gap = np.zeros(int(RATE * 3.0), dtype=np.int16)
    first = speak("I would like to change my flight please.", tmp_path / "a.wav")
    card = speak(f"My card number is {CARD_WORDS}.", tmp_path / "b.wav")

    def agent_asked_for_card() -> bool:
        # the caller reads the card only once the agent paused and finished asking for it
        return len(recorder.tool_calls) >= 1 and session.agent_state == "listening"

    caller = CallerInput(
        np.concatenate([gap[: RATE // 2], first]),
        then=[(agent_asked_for_card, np.concatenate([gap[: RATE // 2], card, gap]))],
    )

    llm = ScriptedLLM(
        [call("pause_recording"), say("Sure. Please read me the card number.")],
        [call("resume_recording"), say("Thank you, your card is noted.")],
    )
    vad = silero.VAD.load()
    session: AgentSession[State] = AgentSession(
        vad=vad,
        stt=WhisperSTT(WhisperEngine.load(cpu_threads=2), vad=vad),
        llm=llm,
        tts=ToneTTS(),
        userdata=State(),
        min_endpointing_delay=0.4,
    )
    state = session.userdata
    recorder = attach(session, state, settings=settings, session_factory=factory)
    session.input.audio = caller
    session.output.audio = Speaker()
    agent = Agent(instructions="Travel support.", tools=list(RECORDING_TOOLS))
    await session.start(agent=agent, record=False)
    await recorder.start()
    # Whisper on 2 cores may need several seconds for the card sentence: wait for the reply
    for _ in range(300):
        if caller.finished and len(recorder.tool_calls) >= 2:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.5)  # the reply's tone
    await recorder.aclose()
    assert caller.segment_starts, "the agent never asked for the card"
    card_start = caller.segment_starts[0] + 0.5
    card_end = card_start + len(card) / RATE
    await session.aclose()

    detail = get_call(factory, "rec-test-1")
    assert detail is not None and detail.call.status == "complete"
    assert detail.call.caller_masked == "+1415•••0123"
    assert [t.name for t in detail.tool_calls] == ["pause_recording", "resume_recording"], (
        detail.transcript
    )
    assert len(detail.paused_spans) == 1
    span = detail.paused_spans[0]
    assert span.end_s is not None and span.start_s < card_start and span.end_s > card_end - 0.5

    # the file: playable stereo Ogg/Opus; the caller's channel is silent over the pause
    audio, rate = _decode(Path(detail.local_path))
    assert audio.shape[0] == 2 and audio.shape[1] / rate > card_end
    lo, hi = int((span.start_s + 0.1) * rate), int((span.end_s - 0.1) * rate)
    assert np.abs(audio[:, lo:hi]).max() < 1e-3, "audio in the paused span"
    before = audio[0, int(0.5 * rate) : int(span.start_s * rate)]
    assert np.abs(before).max() > 0.05, "the caller's first sentence is not in the left channel"
    assert np.abs(audio[1]).max() > 0.05, "the agent's tone is not in the right channel"

    # transcript, metadata, database and logs: no card digits
    caller_lines = [line.text for line in detail.transcript if line.speaker == "caller"]
    assert any("flight" in text.lower() for text in caller_lines), caller_lines
    assert "[recording paused]" in caller_lines
    folder = Path(detail.local_path).parent
    for text in [
        json.dumps([line.__dict__ for line in detail.transcript]),
        (folder / "transcript.json").read_text(),
        (folder / "metadata.json").read_text(),
        (folder / "events.jsonl").read_text(),
        caplog.text,
    ]:
        # the card's digits as Whisper would write them, not inside another number
        assert not CARD_DIGITS.search(text), CARD_DIGITS.search(text)
        assert "one one one one" not in text.lower()
    assert len(detail.turns) >= 2
    (tmp_path / "report.json").write_text(json.dumps([t.__dict__ for t in detail.turns]))
