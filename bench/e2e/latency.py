"""Voice-to-voice latency through the real livekit-server: the local profile (`e2e`) and the
same pipeline with instant stand-in models (`standin`), at 16 kHz and 8 kHz caller audio."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.e2e.calls import CallResult, conversation
from bench.e2e.results import percentiles, save
from bench.e2e.split import split_calls, wait_calls_finalized
from bench.e2e.stack import RESULTS, BenchStack, load_avg
from bench.e2e.voices import CALLER_PHONE, TRAVEL_TURNS, VOICES, caller_utterance

logger = logging.getLogger(__name__)

RATES = (16000, 8000)
CACHE = RESULTS / "voices"


def end_of_turn_window(settings: Any) -> dict[str, float]:
    """The end-of-turn window of the session's config: VAD min silence + min endpointing delay.

    In livekit-agents 1.8.9 the endpointing delay is counted from the back-dated end of speech
    (audio_recognition: ``extra_sleep = min_delay + last_speaking_time - now``), so the wait
    after the last word is really max(VAD min silence, min delay); both are reported.
    """
    from navan_voice.speech.vad import load_vad

    vad = load_vad(min_silence_duration=settings.vad_min_silence_s)
    silence = float(vad._opts.min_silence_duration)  # the real worker's VAD, same settings
    min_delay = float(settings.min_endpointing_delay_s)
    return {
        "vad_min_silence_s": silence,
        "min_endpointing_delay_s": min_delay,
        "window_sum_s": round(silence + min_delay, 3),
        "window_effective_s": round(max(silence, min_delay), 3),
    }


def eou_delays(log: Path) -> list[float | None]:
    """The stand-in worker's logged end_of_utterance_delay values."""
    from bench.e2e.standin_worker import EOU_MARK

    text = log.read_text(errors="replace") if log.exists() else ""
    pattern = rf"{EOU_MARK} end_of_utterance_delay=([0-9.]+)"
    return [float(m) for m in re.findall(pattern, text)]


async def _calls(stack: BenchStack, calls: int, reply_timeout: float) -> dict[str, Any]:
    assert stack.settings is not None
    out: dict[str, Any] = {}
    for rate in RATES:
        results: list[CallResult] = []
        loads = []
        since = datetime.now(UTC)
        for i in range(calls):
            voice = VOICES[i % len(VOICES)]
            utterances = [
                caller_utterance(text, voice=voice, rate=rate, cache=CACHE) for text in TRAVEL_TURNS
            ]
            loads.append(load_avg())
            result = await conversation(
                stack.settings, utterances, reply_timeout=reply_timeout, phone=CALLER_PHONE
            )
            logger.info(
                "%d Hz call %d/%d (%s): greeting %s s, latencies %s",
                rate,
                i + 1,
                calls,
                voice,
                result.greeting_s,
                result.latencies_s,
            )
            results.append(result)
        latencies = [x for r in results for x in r.latencies_s]
        out[str(rate)] = {
            "latency_s": percentiles(latencies),
            "greeting_s": percentiles([r.greeting_s for r in results]),
            "load_avg": loads,
            "calls": [r.as_dict() for r in results],
            "window_utc": [since.isoformat(), datetime.now(UTC).isoformat()],
        }
    return out


def stage_breakdown(
    database_url: str, windows: dict[str, list[str]], wait_s: float = 30.0
) -> dict[str, Any]:
    """Where each turn's time went, from the worker's own turn metrics (the recording index
    the worker writes): livekit's end-of-utterance delay, transcription delay, LLM time to
    first token, TTS time to first audio and its end-to-end latency; p50/p95 per stage in ms,
    overall and per sample rate (by the time window each rate's calls ran in)."""
    from navan_voice.db.engine import make_session_factory
    from navan_voice.recording.index import overview

    factory = make_session_factory(database_url)
    wait_calls_finalized(factory, wait_s)

    def stages(since: datetime | None, until: datetime | None) -> dict[str, Any]:
        found = overview(factory, since=since, until=until).stages
        return {
            name: {"count": st.count, "p50_ms": st.p50_ms, "p95_ms": st.p95_ms}
            for name, st in found.items()
        }

    out: dict[str, Any] = {"all": stages(None, None)}
    for rate, (start, end) in windows.items():
        out[rate] = stages(datetime.fromisoformat(start), datetime.fromisoformat(end))
    return out


def run(*, standin: bool, quick: bool, time_limit_s: float = 900.0) -> dict[str, Any]:
    """Server + 1 worker, ``calls`` calls per sample rate × the travel turns."""
    name = "standin" if standin else "e2e"
    calls = 1 if quick else 3
    started = time.monotonic()
    load_before = load_avg()
    with BenchStack(name, env={"NAVAN_WORKER_IDLE_PROCESSES": "1"}) as stack:
        assert stack.settings is not None
        worker = stack.start_standin_worker() if standin else stack.start_worker()
        stack.wait_job_processes(worker, 1, 120.0)
        window = end_of_turn_window(stack.settings)
        per_rate = asyncio.run(
            asyncio.wait_for(_calls(stack, calls, reply_timeout=20.0), time_limit_s)
        )
        eou = eou_delays(worker.log_path) if standin else []
        windows = {rate: v["window_utc"] for rate, v in per_rate.items()}
        breakdown = stage_breakdown(stack.settings.effective_database_url, windows)
        split = {
            rate: split_calls(stack.settings.effective_database_url, v["calls"])
            for rate, v in per_rate.items()
        }
    payload: dict[str, Any] = {
        "mode": "stand-in models" if standin else "local profile",
        "calls_per_rate": calls,
        "turns_per_call": len(TRAVEL_TURNS),
        "end_of_turn": window,
        "load_avg_before": load_before,
        "load_avg_after": load_avg(),
        "wall_s": round(time.monotonic() - started, 1),
        "rates": per_rate,
        "stages_ms": breakdown,
        # each turn split where the worker sees it: uplink, worker, downlink (bench/e2e/split.py)
        "split_s": split,
    }
    if standin:
        # livekit's own measure: caller's last speech (VAD, back-dated) → turn committed
        payload["eou_delay_s"] = percentiles(eou)
    all_latencies = [
        x for rate in per_rate.values() for c in rate["calls"] for x in c["latencies_s"]
    ]
    payload["latency_s"] = percentiles(all_latencies)
    save(name, payload)
    return payload
