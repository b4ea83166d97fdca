"""Prometheus histograms and counters for calls and turns.

The metrics are created on first use in a registry (the default one unless given), so they
appear on livekit's own endpoint (``AgentServer(prometheus_port=…)``; set
``prometheus_multiproc_dir`` there so job processes' metrics are collected) or on our own
``start_metrics_server(port)``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server

LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


@dataclass(frozen=True)
class CallMetrics:
    stage_latency: Histogram
    turns: Counter
    calls: Counter
    interruptions: Counter
    tokens: Counter
    tts_characters: Counter
    unclear_turns: Counter

    def observe_stage(self, stage: str, seconds: float) -> None:
        self.stage_latency.labels(stage=stage).observe(seconds)


@cache
def call_metrics(registry: CollectorRegistry = REGISTRY) -> CallMetrics:
    """The metrics, registered once per registry."""
    return CallMetrics(
        stage_latency=Histogram(
            "navan_turn_stage_latency_seconds",
            "Latency of one pipeline stage in one turn "
            "(eou_delay, transcription_delay, llm_ttft, tts_ttfb, tool, e2e_latency)",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        turns=Counter("navan_turns", "Turns taken", registry=registry),
        calls=Counter("navan_calls", "Calls ended, by outcome", ["outcome"], registry=registry),
        interruptions=Counter(
            "navan_interruptions", "Barge-ins, by kind (true, false)", ["kind"], registry=registry
        ),
        tokens=Counter("navan_llm_tokens", "LLM tokens, by kind", ["kind"], registry=registry),
        tts_characters=Counter("navan_tts_characters", "Characters spoken", registry=registry),
        unclear_turns=Counter(
            "navan_unclear_turns",
            "Caller turns the speech-to-text could not make out (often another language)",
            registry=registry,
        ),
    )


@dataclass
class MetricsServer:
    """A running ``/metrics`` endpoint; ``close()`` stops it."""

    port: int
    _server: Any
    _thread: threading.Thread

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_metrics_server(
    port: int, *, host: str = "127.0.0.1", registry: CollectorRegistry = REGISTRY
) -> MetricsServer:
    """Serve ``/metrics`` on ``host:port`` (port 0: any free one) in a thread."""
    server, thread = start_http_server(port, addr=host, registry=registry)
    return MetricsServer(port=int(server.server_port), _server=server, _thread=thread)
