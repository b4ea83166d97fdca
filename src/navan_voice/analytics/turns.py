"""Per-turn metrics assembled from an AgentSession's events.

A turn starts when the caller's message is committed (``conversation_item_added``, role
user) and collects the agent's reply, tool latencies (``function_tools_executed``),
interruptions (the caller starting to speak while the agent speaks) and false interruptions
(``agent_false_interruption``). Latencies come from the messages' own ``metrics`` (user:
``end_of_turn_delay``, ``transcription_delay``; assistant: ``llm_node_ttft``,
``tts_node_ttfb``, ``e2e_latency``), as livekit 1.8.9 recommends. ``metrics_collected``
events arrive *before* the message they belong to (the caller's STT and end-of-utterance
metrics before the caller's message; with preemptive generation, even the reply's LLM
metrics), so they are held and given to the turn the next message opens or answers: they add
tokens, characters and audio seconds, and fill a latency the message did not carry.
End-to-end latency falls back to caller stopped speaking (``user_state_changed`` → listening)
to agent started speaking (``agent_state_changed`` → speaking).

Nothing here imports livekit: events are read by attribute, so tests can feed plain objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from navan_voice.recording.redaction import redact
from navan_voice.speech.unclear import UNCLEAR


@dataclass
class TurnMetrics:
    index: int
    at_s: float
    agent: str = ""
    user_text: str = ""
    agent_text: str = ""
    eou_delay_ms: float | None = None
    transcription_delay_ms: float | None = None
    llm_ttft_ms: float | None = None
    tts_ttfb_ms: float | None = None
    e2e_latency_ms: float | None = None
    tool_latency_ms: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tts_characters: int = 0
    tts_audio_s: float = 0.0
    stt_audio_s: float = 0.0
    interrupted: bool = False
    false_interruption: bool = False

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


# stage name → (field, seconds-to-ms already applied) for observers such as Prometheus
Observer = Callable[[str, float], None]


@dataclass
class TurnCollector:
    """Feed it session events (``on_*``); read ``turns``. ``t0`` is the call's wall-time start."""

    t0: float
    agent_name: Callable[[], str] = lambda: ""
    observe: Observer | None = None  # called with (stage, seconds) for every measured stage
    turns: list[TurnMetrics] = field(default_factory=list)
    interruptions: int = 0
    false_interruptions: int = 0
    _agent_state: str = "initializing"
    _user_stopped_at: float | None = None
    _pending: list[Any] = field(default_factory=list)
    _fallback: dict[str, float | None] = field(default_factory=dict)  # latencies from events

    # --- helpers -----------------------------------------------------------------------------
    def _current(self, at: float | None = None) -> TurnMetrics:
        if not self.turns:
            # the agent spoke first (a greeting): turn 0 has no caller text
            self.turns.append(TurnMetrics(index=0, at_s=0.0, agent=self.agent_name()))
        return self.turns[-1]

    def _set(self, turn: TurnMetrics, name: str, seconds: float | None) -> None:
        if seconds is None or seconds < 0 or getattr(turn, name) is not None:
            return
        setattr(turn, name, seconds * 1000.0)
        if self.observe is not None:
            self.observe(name.removesuffix("_ms"), seconds)

    # --- events ------------------------------------------------------------------------------
    def on_message(self, item: Any) -> None:
        """A committed chat message (``conversation_item_added`` with a ChatMessage)."""
        role = getattr(item, "role", "")
        text = redact(_text_of(item))
        metrics: dict[str, Any] = dict(getattr(item, "metrics", None) or {})
        if role == "user":
            stopped: Any = metrics.get("stopped_speaking_at") or getattr(
                item, "created_at", self.t0
            )
            turn = TurnMetrics(
                index=len(self.turns),
                at_s=max(0.0, float(stopped) - self.t0),
                agent=self.agent_name(),
                user_text=text,
            )
            self.turns.append(turn)
            self._set(turn, "eou_delay_ms", metrics.get("end_of_turn_delay"))
            self._set(turn, "transcription_delay_ms", metrics.get("transcription_delay"))
            self._apply_pending(turn, "eou_delay_ms", "transcription_delay_ms")
        elif role == "assistant":
            turn = self._current()
            turn.agent_text = f"{turn.agent_text} {text}".strip() if turn.agent_text else text
            turn.agent = turn.agent or self.agent_name()
            turn.interrupted = turn.interrupted or bool(getattr(item, "interrupted", False))
            self._set(turn, "llm_ttft_ms", metrics.get("llm_node_ttft"))
            self._set(turn, "tts_ttfb_ms", metrics.get("tts_node_ttfb"))
            self._set(turn, "e2e_latency_ms", metrics.get("e2e_latency"))
            self._apply_pending(turn, "llm_ttft_ms", "tts_ttfb_ms")

    def on_metrics(self, m: Any) -> None:
        """A ``metrics_collected`` event's ``metrics``: held for the turn of the next message."""
        self._pending.append(m)

    def finish(self) -> None:
        """At the call's end: metrics no message claimed go to the last turn."""
        if self.turns:
            self._apply_pending(self.turns[-1], *list(self._fallback))

    def _apply_pending(self, turn: TurnMetrics, *latencies: str) -> None:
        """Usage from the held events to ``turn``; their values for ``latencies`` fill the ones
        the message did not carry (an LLM's ttft waits for the reply: with preemptive
        generation it arrives before the caller's message)."""
        pending, self._pending = self._pending, []
        for m in pending:
            self._apply(turn, m)
        for name in latencies:
            self._set(turn, name, self._fallback.pop(name, None))

    def _apply(self, turn: TurnMetrics, m: Any) -> None:
        kind = getattr(m, "type", "")
        if kind == "eou_metrics":
            self._fallback.setdefault("eou_delay_ms", getattr(m, "end_of_utterance_delay", None))
            self._fallback.setdefault(
                "transcription_delay_ms", getattr(m, "transcription_delay", None)
            )
        elif kind == "llm_metrics":
            turn.prompt_tokens += int(getattr(m, "prompt_tokens", 0) or 0)
            turn.completion_tokens += int(getattr(m, "completion_tokens", 0) or 0)
            self._fallback.setdefault("llm_ttft_ms", getattr(m, "ttft", None))
        elif kind == "tts_metrics":
            turn.tts_characters += int(getattr(m, "characters_count", 0) or 0)
            turn.tts_audio_s += float(getattr(m, "audio_duration", 0.0) or 0.0)
            self._fallback.setdefault("tts_ttfb_ms", getattr(m, "ttfb", None))
        elif kind == "stt_metrics":
            turn.stt_audio_s += float(getattr(m, "audio_duration", 0.0) or 0.0)

    def on_tools(self, calls: list[Any], outputs: list[Any]) -> list[dict[str, Any]]:
        """A ``function_tools_executed`` event; returns one record per tool call."""
        by_id = {getattr(o, "call_id", None): o for o in outputs if o is not None}
        records = []
        turn = self._current()
        for call in calls:
            out = by_id.get(getattr(call, "call_id", None))
            started = float(getattr(call, "created_at", self.t0))
            ended = float(getattr(out, "created_at", started)) if out is not None else started
            latency = max(0.0, ended - started)
            turn.tool_latency_ms = (turn.tool_latency_ms or 0.0) + latency * 1000.0
            if self.observe is not None:
                self.observe("tool", latency)
            records.append(
                {
                    "at_s": max(0.0, started - self.t0),
                    "call_id": getattr(call, "call_id", ""),
                    "name": getattr(call, "name", ""),
                    "arguments": getattr(call, "arguments", ""),
                    "result": getattr(out, "output", "") if out is not None else "",
                    "is_error": bool(getattr(out, "is_error", False)) if out is not None else False,
                    "latency_ms": latency * 1000.0,
                }
            )
        return records

    def on_user_state(self, new_state: str, at: float) -> None:
        if new_state == "speaking" and self._agent_state == "speaking":
            self.interruptions += 1
            if self.turns:
                self.turns[-1].interrupted = True
        if new_state == "listening":
            self._user_stopped_at = at

    def on_agent_state(self, new_state: str, at: float) -> None:
        self._agent_state = new_state
        if new_state == "speaking" and self._user_stopped_at is not None and self.turns:
            turn = self.turns[-1]
            if turn.user_text:  # a reply to the caller, not the greeting
                self._set(turn, "e2e_latency_ms", at - self._user_stopped_at)
            self._user_stopped_at = None

    def on_false_interruption(self) -> None:
        self.false_interruptions += 1
        if self.turns:
            self.turns[-1].false_interruption = True

    def summary(self) -> dict[str, Any]:
        e2e = [t.e2e_latency_ms for t in self.turns if t.e2e_latency_ms is not None]
        return {
            "turns": len(self.turns),
            "interruptions": self.interruptions,
            "false_interruptions": self.false_interruptions,
            "prompt_tokens": sum(t.prompt_tokens for t in self.turns),
            "completion_tokens": sum(t.completion_tokens for t in self.turns),
            "tts_characters": sum(t.tts_characters for t in self.turns),
            "e2e_mean_ms": sum(e2e) / len(e2e) if e2e else None,
            # caller turns the STT could not make out, often another language (speech/unclear)
            "unclear_turns": sum(t.user_text == UNCLEAR for t in self.turns),
        }


def _text_of(item: Any) -> str:
    text = getattr(item, "text_content", None)
    if isinstance(text, str):
        return text
    content = getattr(item, "content", None) or []
    return " ".join(c for c in content if isinstance(c, str))
