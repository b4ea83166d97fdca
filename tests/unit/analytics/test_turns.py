"""TurnCollector fed events in the order livekit 1.8.9 emits them: a turn's STT, EOU and
(preemptive) LLM metrics arrive before the caller's message that opens it."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from navan_voice.analytics.turns import TurnCollector

pytestmark = pytest.mark.unit

T0 = 1000.0


def _user(text: str, stopped: float, eou: float = 0.5, transcription: float = 0.3) -> NS:
    return NS(
        role="user",
        text_content=text,
        created_at=stopped + eou,
        metrics={
            "stopped_speaking_at": stopped,
            "end_of_turn_delay": eou,
            "transcription_delay": transcription,
        },
    )


def _agent(text: str, ttft: float | None = 0.2, ttfb: float | None = 0.1) -> NS:
    metrics = {"llm_node_ttft": ttft, "tts_node_ttfb": ttfb, "e2e_latency": 0.9}
    return NS(role="assistant", text_content=text, interrupted=False, metrics=metrics)


def test_metrics_before_a_message_belong_to_its_turn() -> None:
    observed: list[tuple[str, float]] = []
    c = TurnCollector(
        t0=T0, agent_name=lambda: "greeter", observe=lambda s, v: observed.append((s, v))
    )
    c.on_metrics(NS(type="stt_metrics", audio_duration=2.0))
    c.on_metrics(NS(type="eou_metrics", end_of_utterance_delay=0.7, transcription_delay=0.4))
    c.on_metrics(NS(type="llm_metrics", prompt_tokens=90, completion_tokens=0, ttft=0.05))
    c.on_message(_user("change my flight", stopped=T0 + 3.0))
    c.on_metrics(NS(type="tts_metrics", characters_count=12, audio_duration=1.5, ttfb=0.15))
    c.on_metrics(NS(type="llm_metrics", prompt_tokens=0, completion_tokens=8, ttft=0.3))
    c.on_message(_agent("Which day?"))
    c.on_metrics(NS(type="stt_metrics", audio_duration=1.0))
    c.finish()

    assert len(c.turns) == 1, "no turn before the caller's first message"
    t = c.turns[0]
    assert (t.user_text, t.agent_text, t.agent, t.at_s) == (
        "change my flight",
        "Which day?",
        "greeter",
        3.0,
    )
    # the messages' own latencies win over the metrics events
    assert t.eou_delay_ms == 500.0 and t.transcription_delay_ms == 300.0
    assert t.llm_ttft_ms == 200.0 and t.tts_ttfb_ms == 100.0 and t.e2e_latency_ms == 900.0
    # usage from every event, including the ones that came before the message
    assert (t.prompt_tokens, t.completion_tokens, t.tts_characters) == (90, 8, 12)
    assert t.stt_audio_s == 3.0 and t.tts_audio_s == 1.5
    assert sorted(s for s, _ in observed) == sorted(
        ["eou_delay", "transcription_delay", "llm_ttft", "tts_ttfb", "e2e_latency"]
    ), "each stage observed once per turn"


def test_events_fill_latencies_a_message_lacks_and_a_greeting_is_turn_zero() -> None:
    c = TurnCollector(t0=T0)
    c.on_metrics(NS(type="tts_metrics", characters_count=20, audio_duration=2.0, ttfb=0.12))
    c.on_message(_agent("Hello, this is Navan.", ttft=None, ttfb=None))
    c.on_message(_user("hi", stopped=T0 + 5.0))
    c.on_metrics(NS(type="llm_metrics", prompt_tokens=10, completion_tokens=3, ttft=0.25))
    c.on_message(_agent("How can I help?", ttft=None, ttfb=None))

    greeting, reply = c.turns
    assert greeting.index == 0 and greeting.user_text == "" and greeting.tts_ttfb_ms == 120.0
    assert reply.index == 1 and reply.llm_ttft_ms == 250.0 and reply.completion_tokens == 3


def test_tools_interruptions_and_fallback_e2e() -> None:
    c = TurnCollector(t0=T0)
    c.on_user_state("listening", T0 + 2.0)
    c.on_message(
        NS(
            role="user",
            text_content="my card is 4111 1111 1111 1111",
            created_at=T0 + 2.0,
            metrics={},
        )
    )
    records = c.on_tools(
        [NS(call_id="c1", name="get_trip", arguments='{"trip_id": "T1"}', created_at=T0 + 2.5)],
        [NS(call_id="c1", output="ok", is_error=False, created_at=T0 + 2.75)],
    )
    c.on_agent_state("speaking", T0 + 3.2)
    c.on_user_state("speaking", T0 + 3.5)  # barge-in
    c.on_false_interruption()

    t = c.turns[0]
    assert "4111" not in t.user_text
    assert records[0]["latency_ms"] == pytest.approx(250.0) and t.tool_latency_ms == pytest.approx(
        250.0
    )
    assert t.e2e_latency_ms == pytest.approx(1200.0)
    assert t.interrupted and t.false_interruption
    assert c.summary()["interruptions"] == 1 and c.summary()["false_interruptions"] == 1


def test_turns_the_stt_could_not_make_out_are_counted() -> None:
    from navan_voice.speech.unclear import UNCLEAR

    c = TurnCollector(t0=T0)
    c.on_message(_user(UNCLEAR, T0 + 1.0))
    c.on_message(_agent("Sorry, I didn't catch that. Could you say it again?"))
    c.on_message(_user(UNCLEAR, T0 + 4.0))
    c.on_message(_agent("Sorry, I still couldn't make that out."))
    c.on_message(_user("A person please", T0 + 8.0))
    assert c.summary()["unclear_turns"] == 2
    assert TurnCollector(t0=T0).summary()["unclear_turns"] == 0
