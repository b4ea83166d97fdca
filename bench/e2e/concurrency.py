"""N simultaneous calls on one worker: stand-in models (target ≥ 50 calls, no underruns) and
the local models (target ≥ 4 calls at p95 ≤ 1.5 s); memory of the worker's process tree.

Bounded: N is capped, every level has a time limit, calls start 0.25 s apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import asdict
from typing import Any

import numpy as np

from bench.e2e.calls import CallResult, conversation
from bench.e2e.latency import stage_breakdown
from bench.e2e.results import percentiles, save
from bench.e2e.stack import RESULTS, BenchStack, TreeCpu, TreeMemory, load_avg, tree_memory
from bench.e2e.voices import CALLER_PHONE, TRAVEL_TURNS, VOICES, caller_utterance

logger = logging.getLogger(__name__)

MAX_CALLS = 60
STAGGER_S = 0.25


async def _level(
    stack: BenchStack,
    worker_pid: int | None,
    n: int,
    turns: list[list[np.ndarray]],
    *,
    reply_timeout: float,
    settle_s: float,
    limit_s: float,
    stagger_s: float = STAGGER_S,
) -> dict[str, Any]:
    assert stack.settings is not None
    settings = stack.settings
    before = tree_memory(worker_pid)
    peak = before
    cpu = TreeCpu(worker_pid)
    samples: list[tuple[float, float]] = []
    lags: list[float] = []  # how late the bench's own event loop woke from a 1-s sleep
    started = time.monotonic()

    def read_proc() -> TreeMemory:
        cpu.sample()
        return tree_memory(worker_pid)

    async def sample() -> None:
        nonlocal peak
        while True:
            # /proc reads of ~10 large processes, off the loop the simulated callers run on
            mem = await asyncio.to_thread(read_proc)
            samples.append((round(time.monotonic() - started, 1), os_load()))
            if mem.pss_mib > peak.pss_mib:
                peak = mem
            before_sleep = time.monotonic()
            await asyncio.sleep(1.0)
            lags.append(time.monotonic() - before_sleep - 1.0)

    async def one(i: int) -> CallResult:
        await asyncio.sleep(i * stagger_s)
        left = limit_s - (time.monotonic() - started)
        try:
            return await asyncio.wait_for(call(i), max(left, 1.0))
        except TimeoutError:
            return CallResult(room=f"call {i}", error=f"not done within the {limit_s:.0f}s limit")

    async def call(i: int) -> CallResult:
        return await conversation(
            settings,
            turns[i % len(turns)],
            reply_timeout=reply_timeout,
            settle_s=settle_s,
            phone=CALLER_PHONE,
        )

    sampler = asyncio.create_task(sample())
    try:
        results = await asyncio.gather(*(one(i) for i in range(n)))
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    cpu.sample()
    wall = time.monotonic() - started
    latencies = [x for r in results for x in r.latencies_s]
    gaps = sum(r.gaps.gaps for r in results)
    late = sum(r.gaps.late_frames for r in results)
    ok = sum(r.ok for r in results)
    return {
        "calls": n,
        "calls_ok": ok,
        "latency_s": percentiles(latencies),
        "greeting_s": percentiles([r.greeting_s for r in results]),
        "underrun_gaps": gaps,
        "late_frames": late,
        "agent_utterances_heard": sum(r.gaps.utterances for r in results),
        "memory_before": asdict(before),
        "memory_peak": asdict(peak),
        "memory_per_call_mib": _per_call(before, peak, n),
        # the worker tree's CPU over the level, in cores (2 = the whole machine), and per call
        "worker_cpu_cores": round(cpu.total / wall, 2),
        "worker_cpu_cores_per_call": round(cpu.total / wall / max(n, 1), 3),
        "load_avg": samples,
        # the simulated callers share this event loop: were it late, their audio would go out
        # and come in late too (measured: p95 ≈0.02 s, so the lag they hear is the worker's)
        "caller_loop_lag_s": percentiles(lags),
        "wall_s": round(wall, 1),
        "results": [r.as_dict() for r in results],
    }


def os_load() -> float:
    return load_avg()[0]


def _per_call(before: TreeMemory, peak: TreeMemory, n: int) -> dict[str, float]:
    return {
        "pss_mib": round((peak.pss_mib - before.pss_mib) / max(n, 1), 1),
        "rss_mib": round((peak.rss_mib - before.rss_mib) / max(n, 1), 1),
    }


def _turns(texts: tuple[str, ...], rate: int) -> list[list[np.ndarray]]:
    cache = RESULTS / "voices"
    return [[caller_utterance(t, voice=v, rate=rate, cache=cache) for t in texts] for v in VOICES]


def run_levels(
    *,
    standin: bool,
    levels: list[int],
    level_limit_s: float,
    executor: str = "thread",
    turns_per_call: int = 2,
    worker_nice: int = 0,
    stagger_s: float = STAGGER_S,
) -> dict[str, Any]:
    """One fresh stack per level (so every level starts from the same state).

    ``turns_per_call`` (1-3 travel phrases): more turns give more latencies per level, and
    the level lasts longer. ``worker_nice`` > 0 runs the worker at a lower CPU priority than
    the simulated callers, which share its cores here but would not in a real deployment.
    ``stagger_s``: between call starts. At the default 0.25 s the callers speak in lockstep and
    every turn of every call needs the CPU in the same second (the worst case); a few seconds
    spreads their turns as independent callers' would be."""
    out: list[dict[str, Any]] = []
    texts = TRAVEL_TURNS[: max(1, min(turns_per_call, len(TRAVEL_TURNS)))]
    turns = _turns(texts, 16000)
    for n in levels:
        n = min(n, MAX_CALLS)
        idle = "1" if standin else str(n)  # the local models: every call gets a warm process
        env = {"NAVAN_WORKER_MAX_CALLS": str(n + 2), "NAVAN_WORKER_IDLE_PROCESSES": idle}
        name = f"concurrency-{'standin' if standin else 'local'}-{n}"
        with BenchStack(name, env=env) as stack:
            if standin:
                worker = stack.start_standin_worker(executor=executor, greeting_s=2.0)
                stack.wait_job_processes(worker, 1, 120.0)
            else:
                worker = stack.start_worker(nice=worker_nice)
                stack.wait_job_processes(worker, n, 240.0)
            time.sleep(2.0)  # let start-up CPU settle before the memory baseline
            logger.info("%s: %d calls (load %s)", name, n, load_avg())
            level = asyncio.run(
                _level(
                    stack,
                    worker.pid,
                    n,
                    turns,
                    reply_timeout=20.0,
                    settle_s=3.0 if standin else 8.0,
                    limit_s=level_limit_s + stagger_s * n,
                    stagger_s=stagger_s,
                )
            )
            if not standin and stack.settings is not None:
                # the worker's own per-turn stages next to what the callers heard: the two part
                # ways when the worker's media path falls behind (bench/REPORT.md session 13)
                level["worker_stages_ms"] = stage_breakdown(
                    stack.settings.effective_database_url, {}, wait_s=20.0
                )["all"]
        level["executor"] = executor if standin else "process"
        level["turns_per_call"] = len(texts)
        level["worker_nice"] = worker_nice
        level["stagger_s"] = stagger_s
        logger.info(
            "%s: ok %s/%s, latency %s, gaps %s, memory/call %s",
            name,
            level.get("calls_ok"),
            n,
            level.get("latency_s"),
            level.get("underrun_gaps"),
            level.get("memory_per_call_mib"),
        )
        out.append(level)
        # saved after every level: a crash of the caller process (the rtc SDK can abort under
        # overload) keeps the levels already measured
        save(f"concurrency-{'standin' if standin else 'local'}-partial", {"levels": out})
    return {"mode": "stand-in models" if standin else "local profile", "levels": out}


def run(
    *,
    quick: bool,
    which: str = "both",
    turns_per_call: int = 2,
    worker_nice: int = 0,
    stagger_s: float = STAGGER_S,
) -> dict[str, Any]:
    """Stand-in levels then the local level; ``turns_per_call``, ``worker_nice`` and
    ``stagger_s`` apply to the local level (see ``run_levels``)."""
    started = time.monotonic()
    payload: dict[str, Any] = {"load_avg_before": load_avg()}
    if which in ("both", "standin"):
        levels = [5, 10] if quick else [5, 15, 50]
        payload["standin"] = run_levels(standin=True, levels=levels, level_limit_s=120.0)
    if which in ("both", "local"):
        levels = [2] if quick else [4]
        payload["local"] = run_levels(
            standin=False,
            levels=levels,
            level_limit_s=180.0 + 60.0 * max(turns_per_call - 2, 0),
            turns_per_call=turns_per_call,
            worker_nice=worker_nice,
            stagger_s=stagger_s,
        )
    payload["load_avg_after"] = load_avg()
    payload["wall_s"] = round(time.monotonic() - started, 1)
    save("concurrency", payload)
    return payload
