"""Score the offline dialogue engines on the travel cases: right tool, right arguments,
sensible reply, and time per decision.

    .venv/bin/python -m bench.dialogue.run [--engines rules,needle,hybrid] [--repeat 3]

Prints a Markdown table (and the failed cases) to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import NOT_GIVEN, llm

from navan_voice.speech.dialogue import Decision, LocalDialogueLLM, RulesEngine

from .cases import BLIND, BOOKINGS, CASES, HELDOUT, TODAY, Case
from .travel_tools import AGENTS

logger = logging.getLogger("bench.dialogue")


def chat_ctx_for(case: Case) -> llm.ChatContext:
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="system", content=f"You are Navan's {case.agent} agent.")
    for n, entry in enumerate(case.history):
        if entry[0] in ("user", "assistant"):
            ctx.add_message(role=entry[0], content=entry[1])
        elif entry[0] == "cut-off":  # the agent's reply, cut off by the caller's voice
            ctx.insert(llm.ChatMessage(role="assistant", content=[entry[1]], interrupted=True))
        else:
            _, name, args, output, *err = entry
            call_id = f"call_{n}"
            ctx.insert(llm.FunctionCall(call_id=call_id, name=name, arguments=_json(args)))
            ctx.insert(
                llm.FunctionCallOutput(
                    call_id=call_id, name=name, output=output, is_error=bool(err and err[0])
                )
            )
    if case.instructions:
        ctx.add_message(role="system", content=case.instructions)
    if case.say is not None:
        ctx.add_message(role="user", content=case.say)
    return ctx


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


@dataclass
class Score:
    engine: str
    tool_ok: int = 0
    tool_n: int = 0
    args_ok: int = 0
    reply_ok: int = 0
    reply_n: int = 0
    times_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def judge(case: Case, d: Decision) -> tuple[bool, bool]:
    """(decision right, arguments right) for one case."""
    if case.tool and case.reply and d.tool is None:
        ok = bool(re.search(case.reply, d.text or "", re.IGNORECASE))  # either is acceptable
        return ok, ok
    if case.tool:
        if d.tool not in case.tool:
            return False, False
        args_ok = all(
            str(d.arguments.get(k, "")).replace(" ", "").lower() == str(v).replace(" ", "").lower()
            for k, v in case.args.items()
        )
        return True, args_ok
    ok = d.tool is None and bool(re.search(case.reply, d.text or "", re.IGNORECASE))
    return ok, ok


def make_engine(name: str) -> LocalDialogueLLM:
    if name == "rules":
        return LocalDialogueLLM(RulesEngine(today=lambda: TODAY))
    from navan_voice.speech.dialogue.needle_engine import NeedleEngine

    # "needle-raw": trust every Needle call whatever its confidence (its own skill)
    engine = NeedleEngine(
        today=lambda: TODAY,
        rules_first=name == "hybrid",
        min_confidence=0.0 if name == "needle-raw" else 0.5,
    )
    return LocalDialogueLLM(engine, blocking=True, timeout_s=120)


async def score(name: str, repeat: int, cases: list[Case], label: str) -> Score:
    t0 = time.perf_counter()
    model = make_engine(name)
    logger.info("%s ready in %.2f s", name, time.perf_counter() - t0)
    result = Score(f"{name} ({label})")
    for case in cases:
        ctx = chat_ctx_for(case)
        tools: list[Any] = list(AGENTS[case.agent])
        decision = Decision()
        for _ in range(repeat):
            start = time.perf_counter()
            decision = await model.decide(ctx, tools, NOT_GIVEN)
            result.times_ms.append((time.perf_counter() - start) * 1000)
        right, args_ok = judge(case, decision)
        if case.tool:
            result.tool_n += 1
            result.tool_ok += right
            result.args_ok += args_ok
        else:
            result.reply_n += 1
            result.reply_ok += right
        if not (right and args_ok):
            got = f"{decision.tool}({decision.arguments})" if decision.tool else decision.text
            result.failures.append(f"{case.id}: got {got!r} ({decision.reason})")
    return result


def table(scores: list[Score]) -> str:
    lines = [
        "| engine | right tool | right arguments | sensible reply | all right | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        times = sorted(s.times_ms)
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        total = s.args_ok + s.reply_ok
        lines.append(
            f"| {s.engine} | {s.tool_ok}/{s.tool_n} | {s.args_ok}/{s.tool_n} | "
            f"{s.reply_ok}/{s.reply_n} | {total}/{s.tool_n + s.reply_n} | "
            f"{statistics.median(times):.2f} | {p95:.2f} |"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engines", default="rules,needle,hybrid")
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    scores = [
        await score(name, opts.repeat, cases, label)
        for cases, label in (
            (CASES, "tuned"),
            (HELDOUT, "held-out"),
            (BLIND, "blind"),
            (BOOKINGS, "bookings"),
        )
        for name in opts.engines.split(",")
    ]
    print(table(scores))
    for s in scores:
        for failure in s.failures:
            print(f"- {s.engine}: {failure}")


if __name__ == "__main__":
    asyncio.run(main())
