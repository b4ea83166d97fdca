"""The after-commit timeline read from livekit's trace spans."""

from __future__ import annotations

import pytest
from bench.e2e.spans import Span, summarize, turn_timelines

pytestmark = pytest.mark.unit


def span(name: str, start: float, end: float) -> Span:
    return Span(name, start, end, "t")


def test_steps_are_dated_from_the_commit_up_to_the_first_reply_frame() -> None:
    spans = [
        span("user_turn", 9.0, 10.6),  # lasts the turn: not a step
        span("eou_wait", 9.6, 10.0),  # the turn commits at 10.0
        span("llm_node", 9.8, 9.9),  # preemptive, before the commit: left out
        span("function_tool", 10.01, 10.03),
        span("llm_node", 10.04, 10.05),
        span("tts_node", 10.05, 11.0),
        span("agent_speaking", 10.06, 11.0),
        span("function_tool", 10.5, 10.6),  # after the first frame: another story
    ]
    (turn,) = turn_timelines(spans)
    assert turn["first_audio_ms"] == pytest.approx(60.0)
    assert turn["stages"]["function_tool"] == [(10.0, 30.0)]
    assert turn["stages"]["llm_node"] == [(40.0, 50.0)]
    assert "user_turn" not in turn["stages"]
    summary = summarize([turn])
    assert summary["first_audio_s"]["p50"] == pytest.approx(0.06)
    assert summary["function_tool"]["last_end_s"]["p50"] == pytest.approx(0.03)


def test_a_turn_answered_only_after_the_next_commit_is_left_out() -> None:
    spans = [
        span("eou_wait", 9.0, 10.0),
        span("eou_wait", 11.0, 12.0),
        span("agent_speaking", 12.1, 13.0),
    ]
    timelines = turn_timelines(spans)
    assert [t["first_audio_ms"] for t in timelines] == [pytest.approx(100.0)]


def test_a_reply_is_matched_only_to_speech_of_the_same_call() -> None:
    # call "a" hung up while its last reply played (its agent_speaking was never exported);
    # call "b" starts speaking later: that is not call a's reply
    spans = [
        Span("eou_wait", 9.0, 10.0, "a"),
        Span("tts_node", 10.1, 11.0, "a"),
        Span("eou_wait", 30.0, 31.0, "b"),
        Span("agent_speaking", 31.2, 32.0, "b"),
        Span("agent_speaking", 20.0, 21.0, "b"),  # b's greeting, before its turn
    ]
    timelines = turn_timelines(spans)
    assert [t["first_audio_ms"] for t in timelines] == [pytest.approx(200.0)]


def test_the_turns_own_work_before_the_commit_is_dated_too() -> None:
    spans = [
        span("eou_wait", 4.0, 5.0),  # the previous turn
        span("stt_pass", 4.5, 4.8),  # the previous turn's pass: not this one's
        span("agent_speaking", 5.1, 6.0),
        span("user_speaking", 7.0, 9.6),  # the caller's speech, ended by the VAD
        span("stt_pass", 9.1, 9.35),
        span("lookahead", 9.36, 9.4),
        span("tts_prerender", 9.4, 9.55),
        span("llm_node", 9.8, 9.9),  # livekit's preemptive step: not one of ours, left out
        span("eou_wait", 9.6, 10.0),  # this turn commits at 10.0
        span("agent_speaking", 10.05, 11.0),
    ]
    turn = turn_timelines(spans)[1]
    assert turn["speech_end_ms"] == pytest.approx(-400.0)
    assert turn["stages"]["stt_pass"] == [(pytest.approx(-900.0), pytest.approx(-650.0))]
    assert turn["stages"]["lookahead"] == [(pytest.approx(-640.0), pytest.approx(-600.0))]
    assert turn["stages"]["tts_prerender"] == [(pytest.approx(-600.0), pytest.approx(-450.0))]
    assert "llm_node" not in turn["stages"]
    summary = summarize(turn_timelines(spans))
    assert summary["tts_prerender"]["last_end_s"]["p50"] == pytest.approx(-0.45)
    assert summary["speech_end_s"]["p50"] == pytest.approx(-0.4)
    assert summary["last_pass_after_speech_end_s"]["p50"] == pytest.approx(-0.5)
