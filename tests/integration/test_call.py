"""A real call through a real livekit-server: WAV in, agent audio and a transcript out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from tests.integration.conftest import speak

from navan_voice.caller.audio import rms_dbfs
from navan_voice.caller.client import run_call
from navan_voice.config import Settings
from navan_voice.stack.processes import ManagedProcess

IndexedCall = Callable[[str], Awaitable[Any]]

WorkerFactory = Callable[[int], ManagedProcess]

pytestmark = pytest.mark.integration


async def test_spoken_question_gets_a_spoken_answer(
    stack_settings: Settings,
    workers: WorkerFactory,
    caller_wav: Callable[[str], Path],
    tmp_path: Path,
    indexed_call: IndexedCall,
) -> None:
    workers(0)
    question = caller_wav("Hello. I need some help with my flight to Boston next week.")
    out = tmp_path / "agent.wav"
    # the demo traveler's number: the agent identifies the caller before greeting
    report = await run_call(
        stack_settings, [question], out=out, phone="+14155550123", reply_timeout=90
    )

    # the agent greeted and answered out loud
    assert report.greeting_s is not None
    assert len(report.latencies_s) == 1 and report.latencies_s[0] is not None
    assert report.agent_audio_s > 1.0
    audio, rate = sf.read(out, dtype="int16")
    assert rate == 48000 and rms_dbfs(np.asarray(audio)) > -60

    # both sides are in the transcript, and the agent's STT heard the caller's words
    agent_lines = [line.text for line in report.transcript if line.speaker == "agent"]
    caller_lines = [line.text.lower() for line in report.transcript if line.speaker == "caller"]
    assert len(agent_lines) >= 2, report.transcript  # greeting + answer
    assert "Alex" in agent_lines[0], agent_lines[0]  # identified by number, greeted by name
    assert any("flight" in line or "boston" in line for line in caller_lines), caller_lines
    # the call was recorded (stereo Ogg/Opus) and indexed with its metadata
    calls = await indexed_call(report.room)
    assert calls.call.status == "complete", calls.call
    assert calls.call.caller_masked != "+14155550123" and calls.call.caller_masked.endswith("0123")
    assert calls.call.traveler and "Rivera" in calls.call.traveler
    recording, _rate = sf.read(calls.local_path, dtype="int16", always_2d=True)
    assert recording.shape[1] == 2  # caller left, agent right, one timeline
    assert rms_dbfs(recording[:, 0]) > -70 and rms_dbfs(recording[:, 1]) > -70
    assert any(line.speaker != "agent" for line in calls.transcript)


async def test_call_without_server_names_the_url(
    monkeypatch: pytest.MonkeyPatch, caller_wav: Callable[[str], Path]
) -> None:
    from navan_voice.config import load_settings
    from navan_voice.domain.errors import ServerNotRunningError
    from navan_voice.stack.processes import free_port

    url = f"ws://127.0.0.1:{free_port()}"
    monkeypatch.setenv("NAVAN_LIVEKIT_URL", url)
    with pytest.raises(ServerNotRunningError, match=url) as info:
        await run_call(load_settings(), [caller_wav("hello")])
    assert "navan-voice up" in str(info.value)


async def test_a_caller_speaking_another_language_is_asked_again_then_offered_a_person(
    stack_settings: Settings,
    workers: WorkerFactory,
    tmp_path: Path,
    indexed_call: IndexedCall,
) -> None:
    """Spanish through the real server and the local models: Whisper tiny.en guesses English
    words from it, which reach the dialogue as unclear speech (speech/unclear.py), not as a
    request to act on."""
    from navan_voice.speech.unclear import UNCLEAR

    workers(0)
    # the caller asks, is asked to say it again, and says it again. This sentence scored -1.77
    # to -1.80 in three such calls (the threshold is -0.9); some others came as close as -1.01
    text = "Quiero hablar con alguien sobre mi factura del hotel."
    wav = speak(text, tmp_path / "es.wav", voice="espeak", language="es")
    spanish = [wav, wav]
    report = await run_call(stack_settings, spanish, phone="+14155550123", reply_timeout=90)

    agent_lines = [line.text for line in report.transcript if line.speaker == "agent"]
    caller_lines = [line.text for line in report.transcript if line.speaker == "caller"]
    assert caller_lines == [UNCLEAR, UNCLEAR], report.transcript
    assert any("say it again" in line for line in agent_lines), agent_lines
    assert "only help in English" in agent_lines[-1], agent_lines
    # nothing was looked up, changed or handed off for the guessed words
    calls = await indexed_call(report.room)
    assert calls.call.status == "complete", calls.call
    assert calls.tool_calls == [], calls.tool_calls
    assert [h.from_agent for h in calls.handoffs] == [None], calls.handoffs  # the greeter's start
