"""OpenTelemetry: ``setup_tracing`` puts livekit's own spans of a real (text-only) session
into the configured exporter (here an in-memory one), without the conversation's content."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from livekit.agents import Agent, AgentSession
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tests.fakes.card import CARD, CARD_DIGITS
from tests.fakes.scripted_llm import ScriptedLLM, say

from navan_voice.analytics.tracing import setup_tracing
from navan_voice.config import Settings

pytestmark = pytest.mark.unit


@dataclass
class State:
    call_id: str = "traced-1"
    tags: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def traced() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    from livekit.agents.telemetry import set_tracer_provider

    exporter = InMemorySpanExporter()
    provider = setup_tracing(Settings(agent_name="navan-test"), exporter=exporter)
    assert isinstance(provider, TracerProvider)
    yield provider, exporter
    provider.shutdown()
    set_tracer_provider(TracerProvider())  # later tests trace into nothing


def test_no_endpoint_no_tracing() -> None:
    assert setup_tracing(Settings(otlp_endpoint="")) is None


async def test_session_spans_reach_the_exporter_without_pii(
    traced: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = traced
    session: AgentSession[State] = AgentSession(
        llm=ScriptedLLM([say("Your flight is on time.")]), userdata=State()
    )
    await session.start(Agent(instructions="Travel support."))
    await session.run(user_input=f"Is my flight on time? My card is {CARD}.")
    await session.aclose()
    assert provider.force_flush(timeout_millis=10_000)

    spans = exporter.get_finished_spans()
    names = {s.name for s in spans}
    assert {"agent_session", "agent_turn", "llm_node", "llm_request"} <= names, sorted(names)
    resource = spans[0].resource.attributes
    assert resource.get("service.name") == "navan-test"
    dumped = json.dumps(
        [
            {**dict(s.attributes or {}), "events": [dict(e.attributes or {}) for e in s.events]}
            for s in spans
        ],
        default=str,
    )
    # with allow_pii=True livekit puts the caller's words (card included) in these attributes
    assert CARD not in dumped, "conversation content in a span"
    assert not CARD_DIGITS.search(dumped), CARD_DIGITS.search(dumped)
