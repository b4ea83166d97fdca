"""Barge-in through the real server: the caller speaks over the agent's greeting ~1 s after it
starts; we time caller speech onset → agent audio stopped at the caller (target ≤ 250 ms)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from bench.e2e.calls import CallResult, barge_in
from bench.e2e.results import percentiles, save
from bench.e2e.stack import RESULTS, BenchStack, load_avg
from bench.e2e.voices import BARGE_IN, VOICES, caller_utterance

logger = logging.getLogger(__name__)


def _interruption_config() -> dict[str, Any]:
    """livekit-agents' interruption defaults (the worker sets only enabled/mode/resume)."""
    from livekit.agents.voice import turn

    defaults = dict(getattr(turn, "_INTERRUPTION_DEFAULTS", {}) or {})
    return {k: v for k, v in defaults.items() if isinstance(v, int | float | str | bool)}


# livekit-agents ignores caller speech for the first aec_warmup_duration (3.0 s by default) of
# the agent's speaking, so a barge-in 1 s into the greeting measures that warm-up; 4 s in, the
# interruption path itself
AFTER_S = (1.0, 4.0, 4.0)


async def _calls(stack: BenchStack, calls: int) -> tuple[list[CallResult], list[Any]]:
    assert stack.settings is not None
    results: list[CallResult] = []
    loads = []
    for i in range(calls):
        # every voice at both rates (with the rate alternating like the voice, flite was
        # always heard at 16 kHz and festival at 8 kHz)
        voice = VOICES[i % len(VOICES)]
        rate = 16000 if (i // len(VOICES)) % 2 == 0 else 8000
        after = AFTER_S[i % len(AFTER_S)]
        utterance = caller_utterance(BARGE_IN, voice=voice, rate=rate, cache=RESULTS / "voices")
        loads.append(load_avg())
        result = await barge_in(stack.settings, utterance, after_s=after)
        result.after_s = after
        result.caller = f"{voice} {rate}"
        logger.info(
            "barge-in call %d/%d (%s, %d Hz, %.0f s into the greeting): %s s",
            i + 1,
            calls,
            voice,
            rate,
            after,
            result.bargein_s,
        )
        results.append(result)
    return results, loads


def _by_after(results: list[CallResult]) -> dict[str, Any]:
    return {
        f"{after:.0f}s_into_greeting": percentiles(
            [r.bargein_s for r in results if r.after_s == after]
        )
        for after in sorted(set(AFTER_S))
    }


def _by_caller(results: list[CallResult]) -> dict[str, Any]:
    """Per voice and rate: "Sorry" starts with a hiss in one voice, which is loud before it is
    speech to the VAD."""
    return {
        caller: percentiles([r.bargein_s for r in results if r.caller == caller])
        for caller in sorted({r.caller for r in results})
    }


def _run_mode(*, standin: bool, calls: int, time_limit_s: float) -> dict[str, Any]:
    started = time.monotonic()
    load_before = load_avg()
    with BenchStack("bargein", env={"NAVAN_WORKER_IDLE_PROCESSES": "1"}) as stack:
        worker = stack.start_standin_worker() if standin else stack.start_worker()
        stack.wait_job_processes(worker, 1, 120.0)
        results, loads = asyncio.run(asyncio.wait_for(_calls(stack, calls), time_limit_s))
    return {
        "mode": "stand-in models" if standin else "local profile",
        "bargein_s": percentiles([r.bargein_s for r in results if r.after_s > 3.0]),
        "by_start": _by_after(results),
        "by_caller": _by_caller(results),
        "load_avg_before": load_before,
        "load_avg_after": load_avg(),
        "load_avg": loads,
        "wall_s": round(time.monotonic() - started, 1),
        "calls": [r.as_dict() for r in results],
    }


def run(*, quick: bool, time_limit_s: float = 600.0) -> dict[str, Any]:
    """The local profile, then the stand-in worker (whose greeting is a 4 s tone): the
    difference is what the models' CPU load adds to the stop time."""
    calls = 3 if quick else 9
    payload: dict[str, Any] = {
        "interruption": {"enabled": True, "mode": "vad", "resume_false_interruption": True},
        "livekit_interruption_defaults": _interruption_config(),
        "local": _run_mode(standin=False, calls=calls, time_limit_s=time_limit_s),
        "standin": _run_mode(standin=True, calls=calls, time_limit_s=time_limit_s),
    }
    payload["bargein_s"] = payload["local"]["bargein_s"]
    save("bargein", payload)
    return payload
