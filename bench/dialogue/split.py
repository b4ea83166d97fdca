"""Requests split by a pause: the first half is taken as a whole turn, the agent starts its
reply, and the caller's second half cuts it off. Is the second half understood?

    .venv/bin/python -m bench.dialogue.split [--engine rules]

Every case of the dialogue bench with four words or more is cut before its last connecting
word ("Can I move my flight | to next Tuesday?", where a caller stops to think). The engine
first decides on the first half, as it would live; that reply is then cut off after its first
three words (its tool call, if any, stays, with an output that lists options: the case where
a half-heard reply can mislead most). The case is then scored as usual on the second half.
Also scored: the halves with nothing between them (the caller went on before the reply began),
and the harm a join could do: 150 pairs of whole requests (seeded), the second said over the
first words of the reply to the first, against the same second request heard as a new turn.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import logging
import random
import re

from livekit.agents import NOT_GIVEN

from .cases import BLIND, CASES, HELDOUT, Case, History
from .run import chat_ctx_for, make_engine, score, table
from .travel_tools import AGENTS

logger = logging.getLogger("bench.dialogue.split")

# where a caller stops mid-request to think: before a preposition, conjunction or "my"
_CONNECTING = re.compile(r"to|for|on|from|at|in|with|and|my", re.IGNORECASE)
CUT_AFTER_WORDS = 3
LISTING_OUTPUT = "I have 3 options: option 1, 9:00 AM; option 2, noon; option 3, 6:00 PM."


def halves(case: Case) -> tuple[str, str] | None:
    words = (case.say or "").split()
    cuts = [i for i, w in enumerate(words) if i >= 1 and _CONNECTING.fullmatch(w)]
    if len(words) < 4 or not cuts:
        return None
    return " ".join(words[: cuts[-1]]), " ".join(words[cuts[-1] :])


async def split_cases(engine_name: str, cases: list[Case]) -> tuple[list[Case], list[Case]]:
    """(halves with a cut-off reply between them, halves with nothing between them)."""
    model = make_engine(engine_name)
    cut_off: list[Case] = []
    adjacent: list[Case] = []
    for case in cases:
        parts = halves(case)
        if parts is None:
            continue
        first, second = parts
        first_turn = dataclasses.replace(case, say=first)
        reply = await model.decide(chat_ctx_for(first_turn), list(AGENTS[case.agent]), NOT_GIVEN)
        between: History = []
        if reply.tool:
            between.append(("tool", reply.tool, reply.arguments, LISTING_OUTPUT))
            heard = "I have 3 options"
        else:
            heard = reply.text or ""
        between.append(("cut-off", " ".join(heard.split()[:CUT_AFTER_WORDS])))
        history = [*case.history, ("user", first)]
        cut_off.append(dataclasses.replace(case, history=[*history, *between], say=second))
        adjacent.append(dataclasses.replace(case, history=history, say=second))
    return cut_off, adjacent


async def back_to_back(
    engine_name: str, cases: list[Case], n: int = 150
) -> tuple[list[Case], list[Case]]:
    """Two whole requests of one agent, the second (scored) said over the first words of the
    reply to the first (must not be joined to it) or after the whole reply (a new turn)."""
    model = make_engine(engine_name)
    single = [c for c in cases if c.say and not c.history and not c.instructions]
    pairs = [(a, b) for a, b in itertools.permutations(single, 2) if a.agent == b.agent]
    random.Random(1).shuffle(pairs)
    over: list[Case] = []
    after: list[Case] = []
    for a, b in pairs[:n]:
        reply = await model.decide(chat_ctx_for(a), list(AGENTS[a.agent]), NOT_GIVEN)
        between: History = []
        if reply.tool:
            between.append(("tool", reply.tool, reply.arguments, LISTING_OUTPUT))
        heard = "I have 3 options" if reply.tool else (reply.text or "")
        first: History = [("user", a.say)]
        cut = ("cut-off", " ".join(heard.split()[:CUT_AFTER_WORDS]))
        over.append(dataclasses.replace(b, history=[*first, *between, cut]))
        after.append(dataclasses.replace(b, history=[*first, *between, ("assistant", heard)]))
    return over, after


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", default="rules")
    opts = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    every = [*CASES, *HELDOUT, *BLIND]
    whole = [c for c in every if halves(c) is not None]
    cut_off, adjacent = await split_cases(opts.engine, whole)
    over, after = await back_to_back(opts.engine, every)
    scores = [
        await score(opts.engine, 1, cases, label)
        for cases, label in (
            (whole, "whole request"),
            (cut_off, "split, reply cut off"),
            (adjacent, "split, nothing between"),
            (after, "two requests, the second after the reply"),
            (over, "two requests, the second over the reply"),
        )
    ]
    print(table(scores))
    for s in scores:
        for failure in s.failures:
            print(f"- {s.engine}: {failure}")


if __name__ == "__main__":
    asyncio.run(main())
