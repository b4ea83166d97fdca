"""Where the worker's time goes after the turn commits, from livekit's own trace spans.

`python -m bench.e2e.spans [--calls N]`: the `e2e` calls (N per sample rate) against a worker
that exports its OpenTelemetry spans (``NAVAN_OTLP_ENDPOINT``) to a receiver in this process.
For each caller turn it takes the end of livekit's ``eou_wait`` span (the turn committed) and
the start of the next ``agent_speaking`` span (the first reply frame out), and dates every
``llm_node``, ``function_tool`` and ``tts_node`` span between them from the commit. The
receiver is ours (a few lines of http.server over opentelemetry-proto): no collector ships in
a package here.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.e2e.results import percentiles, save

logger = logging.getLogger(__name__)

STAGES = ("llm_node", "function_tool", "tts_node")
# spans that last a call, an agent or a turn: not a step of the reply
LONG_LIVED = frozenset(
    {
        "agent_session",
        "session_start",
        "agent_turn",
        "user_turn",
        "user_speaking",
        "agent_speaking",
        "eou_wait",
        "eou_detection",
    }
)


# the turn's work before the commit (our own spans): the STT's passes, the look-ahead and its
# piper render, dated from up to EARLY_S before the commit
EARLY = frozenset({"stt_pass", "lookahead", "tts_prerender"})
EARLY_S = 2.0


@dataclass(frozen=True)
class Span:
    name: str
    start: float  # wall clock, seconds
    end: float
    trace: str


class Receiver:
    """An OTLP/HTTP (protobuf) trace endpoint on a free loopback port; keeps every span."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.add(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1/traces"

    def add(self, body: bytes) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        found = [
            Span(s.name, s.start_time_unix_nano / 1e9, s.end_time_unix_nano / 1e9, s.trace_id.hex())
            for rs in request.resource_spans
            for ss in rs.scope_spans
            for s in ss.spans
        ]
        with self._lock:
            self.spans += found

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def turn_timelines(spans: list[Span]) -> list[dict[str, Any]]:
    """Per committed turn: ms from the commit to the first reply frame, and each stage span
    of the same call (livekit gives each session one trace) that started in between (start
    and end, ms from the commit). A reply whose ``agent_speaking`` span never ended (the
    caller hung up while it played) is not exported, so its turn is left out rather than
    matched to another call's speech."""
    by_trace: dict[str, list[Span]] = defaultdict(list)
    for s in spans:
        by_trace[s.trace].append(s)
    out = []
    for call in by_trace.values():
        out.extend(_call_timelines(call))
    return sorted(out, key=lambda t: t["commit"])


def _call_timelines(spans: list[Span]) -> list[dict[str, Any]]:
    commits = sorted(s.end for s in spans if s.name == "eou_wait")
    speaking = sorted(s.start for s in spans if s.name == "agent_speaking")
    out = []
    for i, commit in enumerate(commits):
        later = [t for t in speaking if t >= commit]
        if not later:
            continue
        first_audio = later[0]
        nxt = commits[i + 1] if i + 1 < len(commits) else float("inf")
        if first_audio > nxt:
            continue  # no reply before the next turn
        prev = commits[i - 1] if i else float("-inf")
        stages: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for s in spans:
            since = max(prev, commit - EARLY_S) if s.name in EARLY else commit - 0.05
            if s.name not in LONG_LIVED and since <= s.start <= first_audio:
                stages[s.name].append(
                    (round((s.start - commit) * 1000, 1), round((s.end - commit) * 1000, 1))
                )
        # the caller's speech as the session's VAD ended it (livekit's user_speaking span)
        speech_ends = [s.end for s in spans if s.name == "user_speaking" and prev < s.end <= commit]
        out.append(
            {
                "commit": commit,
                "first_audio_ms": round((first_audio - commit) * 1000, 1),
                "speech_end_ms": (
                    round((max(speech_ends) - commit) * 1000, 1) if speech_ends else None
                ),
                "stages": {k: sorted(v) for k, v in stages.items()},
            }
        )
    return out


def summarize(timelines: list[dict[str, Any]]) -> dict[str, Any]:
    """p50/p95 of the commit → first audio, and of each stage's first start and last end."""
    summary: dict[str, Any] = {
        "first_audio_s": percentiles([t["first_audio_ms"] / 1000 for t in timelines])
    }
    summary["speech_end_s"] = percentiles(
        [t["speech_end_ms"] / 1000 for t in timelines if t.get("speech_end_ms") is not None]
    )
    # how long after the caller's speech ended the pass that gave the turn's text began
    summary["last_pass_after_speech_end_s"] = percentiles(
        [
            (t["stages"]["stt_pass"][-1][0] - t["speech_end_ms"]) / 1000
            for t in timelines
            if t.get("speech_end_ms") is not None and t["stages"].get("stt_pass")
        ]
    )
    for name in (*STAGES, *sorted(EARLY)):
        runs = [t["stages"][name] for t in timelines if name in t["stages"]]
        summary[name] = {
            "turns": len(runs),
            "per_turn": percentiles([len(r) for r in runs]),
            "first_start_s": percentiles([r[0][0] / 1000 for r in runs]),
            "last_end_s": percentiles([max(e for _, e in r) / 1000 for r in runs]),
        }
    return summary


def run(calls: int) -> dict[str, Any]:
    from bench.e2e.latency import _calls
    from bench.e2e.stack import BenchStack, load_avg

    with Receiver() as receiver:
        env = {"NAVAN_WORKER_IDLE_PROCESSES": "1", "NAVAN_OTLP_ENDPOINT": receiver.endpoint}
        with BenchStack("spans", env=env) as stack:
            worker = stack.start_worker()
            stack.wait_job_processes(worker, 1, 120.0)
            load_before = load_avg()
            per_rate = asyncio.run(_calls(stack, calls, reply_timeout=20.0))
            time.sleep(7.0)  # the worker's batch exporter sends every 5 s
        spans = list(receiver.spans)
    timelines = turn_timelines(spans)
    payload = {
        "calls_per_rate": calls,
        "load_avg_before": load_before,
        "latency_s": percentiles(
            [x for r in per_rate.values() for c in r["calls"] for x in c["latencies_s"]]
        ),
        "spans": len(spans),
        "span_names": sorted({s.name for s in spans}),
        "after_commit": summarize(timelines),
        "turns": timelines,
    }
    save("spans", payload)
    return payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1, help="calls per sample rate (default 1)")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    result = run(args.calls)
    for name, value in result["after_commit"].items():
        print(name, value)


if __name__ == "__main__":
    main()
