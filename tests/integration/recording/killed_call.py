"""TEST STAND-IN for a worker process that dies mid-call: run as
``python -m tests.integration.recording.killed_call <data dir>``.

It runs a real, recorded, roomless AgentSession (caller audio from espeak-ng, tone TTS,
scripted LLM) exactly as the worker wires one (``attach`` → ``session.start`` →
``recorder.start``), prints ``RECORDING <audio path>`` and then ``SPOKE`` after each agent
reply has played, and keeps the call going until it is killed. It never closes the recorder: the
test SIGKILLs it. As a safety net it exits by itself after ``MAX_SECONDS``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from livekit.agents import Agent, AgentSession
from tests.fakes.scripted_llm import ScriptedLLM
from tests.integration.recording.harness import RATE, CallerInput, Speaker, ToneTTS, speak

from navan_voice.config import Settings
from navan_voice.recording.api import attach

MAX_SECONDS = 120.0
CALL_ID = "killed-call-1"


@dataclass
class State:
    call_id: str = CALL_ID
    room: str = f"call-{CALL_ID}"
    channel: str = "phone"
    caller_phone: str = "+14155550123"
    tags: dict[str, Any] = field(default_factory=dict)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main(data_dir: Path) -> None:
    from livekit.plugins import silero

    settings = Settings(data_dir=data_dir, database_url="", recordings_backend="local")
    sentence = speak("I would like to change my flight to Denver please.", data_dir / "c.wav")
    gap = np.zeros(RATE // 2, dtype=np.int16)
    caller = CallerInput(np.concatenate([gap, sentence] * 40))  # talks for minutes
    session: AgentSession[State] = AgentSession(
        vad=silero.VAD.load(), llm=ScriptedLLM(), tts=ToneTTS(), userdata=State()
    )
    recorder = attach(session, session.userdata, settings=settings)
    session.input.audio = caller
    session.output.audio = Speaker()
    await session.start(agent=Agent(instructions="Travel support."), record=False)
    await recorder.start()
    _say(f"RECORDING {recorder.audio_path}")
    _say(f"PID {os.getpid()}")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_SECONDS
    while loop.time() < deadline:
        handle = session.say("Let me look at your trip.")
        await handle.wait_for_playout()
        _say("SPOKE")
        await asyncio.sleep(0.5)
    os._exit(3)  # nobody killed us: leave as a dead worker would, without closing anything


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
