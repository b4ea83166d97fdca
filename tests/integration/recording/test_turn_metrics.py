"""Per-turn metrics from a real AgentSession's events (roomless: a caller speaking espeak-ng
audio, silero VAD, scripted STT and LLM, tone TTS), stored per turn, and the Prometheus
endpoint serving their histograms."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from livekit.agents import Agent, AgentSession
from prometheus_client.parser import text_string_to_metric_families
from tests.fakes.scripted_llm import ScriptedLLM, say
from tests.integration.recording.harness import (
    RATE,
    CallerInput,
    ScriptedSTT,
    Speaker,
    ToneTTS,
    speak,
)

from navan_voice.analytics.prometheus import start_metrics_server
from navan_voice.config import Settings
from navan_voice.db.engine import make_session_factory, upgrade_database
from navan_voice.recording.api import attach
from navan_voice.recording.index import get_call

pytestmark = pytest.mark.integration

STAGES = ("eou_delay", "transcription_delay", "llm_ttft", "tts_ttfb", "e2e_latency")
CALL_LIMIT_S = 50.0  # a guard against a call that never finishes, not a measurement


@dataclass
class State:
    call_id: str = "metrics-call-1"
    tags: dict[str, Any] = field(default_factory=dict)


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _stage_count(samples: dict[Any, float], stage: str) -> float:
    return samples.get(("navan_turn_stage_latency_seconds_count", (("stage", stage),)), 0.0)


async def test_turn_metrics_from_a_real_session_reach_db_and_prometheus(tmp_path: Path) -> None:
    from livekit.plugins import silero

    metrics_server = start_metrics_server(0)
    try:
        before = _scrape(metrics_server.port)
        db_url = f"sqlite:///{tmp_path / 'calls.db'}"
        upgrade_database(db_url)
        factory = make_session_factory(db_url)
        settings = Settings(data_dir=tmp_path, database_url="")

        gap = np.zeros(RATE // 2, dtype=np.int16)
        first = speak("I would like to change my flight please.", tmp_path / "a.wav")
        second = speak("Thursday morning would be great.", tmp_path / "b.wav")
        replies: list[str] = []

        def agent_answered() -> bool:
            return bool(replies) and session.agent_state == "listening"

        caller = CallerInput(
            np.concatenate([gap, first]), then=[(agent_answered, np.concatenate([gap, second]))]
        )
        session: AgentSession[State] = AgentSession(
            vad=silero.VAD.load(),
            stt=ScriptedSTT(["I would like to change my flight.", "Thursday morning."]),
            llm=ScriptedLLM([say("Sure, which day?")], [say("Thursday it is.")]),
            tts=ToneTTS(),
            userdata=State(),
            min_endpointing_delay=0.3,
        )
        session.on(
            "conversation_item_added",
            lambda ev: (
                replies.append(ev.item.text_content or "")
                if getattr(ev.item, "role", "") == "assistant"
                else None
            ),
        )
        recorder = attach(session, session.userdata, settings=settings, session_factory=factory)
        session.input.audio = caller
        session.output.audio = Speaker()
        await session.start(agent=Agent(instructions="Travel support."), record=False)
        await recorder.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CALL_LIMIT_S
        while not (len(replies) >= 2 and session.agent_state == "listening"):
            assert loop.time() < deadline, f"the call did not finish: replies={replies}"
            await asyncio.sleep(0.1)
        await recorder.aclose()
        await session.aclose()

        detail = get_call(factory, "metrics-call-1")
        assert detail is not None
        (tmp_path / "turns.json").write_text(json.dumps([t.__dict__ for t in detail.turns]))
        answered = detail.turns  # one per caller message; nothing before the first
        assert [t.user_text for t in answered] == [
            "I would like to change my flight.",
            "Thursday morning.",
        ]
        for turn in answered:
            values = {
                "eou_delay": turn.eou_delay_ms,
                "transcription_delay": turn.transcription_delay_ms,
                "llm_ttft": turn.llm_ttft_ms,
                "tts_ttfb": turn.tts_ttfb_ms,
                "e2e_latency": turn.e2e_latency_ms,
            }
            missing = [k for k, v in values.items() if v is None or v < 0]
            assert not missing, f"turn {turn.index} lacks {missing}: {values}"
            assert turn.agent_text and turn.tts_characters > 0 and turn.tts_audio_s > 0.5
            assert turn.stt_audio_s > 0.5, f"turn {turn.index}: the caller's audio is not counted"

        after = _scrape(metrics_server.port)
        for stage in STAGES:
            grew = _stage_count(after, stage) - _stage_count(before, stage)
            assert grew == len(answered), f"histogram for {stage} grew by {grew}"
        bucket = (
            "navan_turn_stage_latency_seconds_bucket",
            (("le", "+Inf"), ("stage", "e2e_latency")),
        )
        assert after[bucket] >= len(answered)
    finally:
        metrics_server.close()
