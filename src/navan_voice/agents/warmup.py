"""Play a few travel requests through the look-ahead once per job process, before any call.

A job process's first request runs code no turn ran before in that process: the dialogue rules
compile their patterns, livekit builds each agent's tool schemas, the look-ahead and the hand-off
paths run for the first time. Alone that is ≈20 ms more than a warm turn; in a call, where the
cores are shared, the first turn's look-ahead took 25–45 ms more than the later ones, and on a
turn that hands off it is on the way to the reply's first words (bench/REPORT.md, session 18).
``warm_dialogue`` pays it in prewarm: the requests are played ahead for some traveler in the
database, on a copy of a throwaway call state, with no room. Only read-only tools run ahead, so
nothing is written and nothing is said. A failure is logged and skipped: warming must never stop
a worker from starting.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterable

from livekit.agents import AgentSession

from navan_voice.agents import build_first_agent
from navan_voice.agents.handoffs import SPECIALIST_HANDOFFS
from navan_voice.agents.lookahead import Lookahead
from navan_voice.agents.state import CallState
from navan_voice.db import repositories as repo
from navan_voice.db.engine import SessionFactory, transaction
from navan_voice.domain.models import Channel
from navan_voice.speech.dialogue import LocalDialogueLLM
from navan_voice.tools import READ_ONLY_TOOLS
from navan_voice.tools.identity import identify_signed_in

logger = logging.getLogger(__name__)

# one request for each specialist the greeter hands off to, and the policy question
WARM_REQUESTS = (
    "When does my flight leave?",
    "What hotel am I staying at?",
    "What is the cancellation policy?",
    "What is the status of my expense report?",
)
TIMEOUT_S = 20.0  # prewarm goes on without the warm-up after this


class _Discard:
    """A prerenderer that renders nothing: the warm-up wants the decisions, not the audio."""

    ahead_rendered = ahead_spoken = ahead_late = 0

    def prerender(self, chunks: Iterable[str]) -> None:
        pass


async def _play(db: SessionFactory, model: LocalDialogueLLM) -> int:
    with transaction(db) as session:
        traveler = repo.any_traveler_with_trip(session)
    if traveler is None:
        return 0  # an empty database: nothing a request could find
    state = CallState(call_id="warm-up", db=db, channel=Channel.WEB)
    await identify_signed_in(state, traveler)
    played = 0
    async with AgentSession[CallState](llm=model, userdata=state) as agent_session:
        await agent_session.start(build_first_agent(state))
        ahead = Lookahead(
            agent_session,
            model,
            _Discard(),
            read_only=READ_ONLY_TOOLS,
            handoffs=SPECIALIST_HANDOFFS,
        )
        for request in WARM_REQUESTS:
            if await ahead.play_ahead(request) is not None:
                played += 1
    return played


def warm_dialogue(db: SessionFactory, model: LocalDialogueLLM) -> int:
    """Play ``WARM_REQUESTS`` ahead (see the module); returns how many ended in a reply. Runs on a
    thread of its own with its own event loop: prewarm is synchronous, and the job's loop is
    not running yet."""
    started = time.perf_counter()
    played: list[int] = []

    def run() -> None:
        try:
            played.append(asyncio.run(_play(db, model)))
        except Exception as e:  # a warm-up must not stop the worker
            logger.warning("dialogue warm-up failed: %s", e)

    thread = threading.Thread(target=run, name="dialogue-warm-up", daemon=True)
    thread.start()
    thread.join(TIMEOUT_S)
    if thread.is_alive():
        logger.warning("dialogue warm-up still running after %.0f s; going on", TIMEOUT_S)
        return 0
    count = played[0] if played else 0
    logger.info(
        "dialogue warmed: %d requests in %.0f ms", count, (time.perf_counter() - started) * 1000
    )
    return count
