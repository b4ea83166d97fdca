"""Running a service from a tool: off the event loop, with domain errors made speakable."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from contextvars import ContextVar
from datetime import date
from typing import Any, TypeVar

from livekit.agents import RunContext
from livekit.agents.llm import ToolError

from navan_voice.domain.errors import DataUnavailableError, DomainError
from navan_voice.services.common import parse_date
from navan_voice.tools.state import CallState

logger = logging.getLogger(__name__)
T = TypeVar("T")
# the call a service runs for, for its logs (set by state_of and read_service, in the tool's task)
CALL_ID: ContextVar[str] = ContextVar("navan_call_id", default="unknown")
# the tool call in progress (set by ``state_of``, in the tool's own task), so a slow service
# can fill the silence on it; unset on the look-ahead, whose context is not a RunContext
RUN_CONTEXT: ContextVar[RunContext[CallState] | None] = ContextVar(
    "navan_run_context", default=None
)
# a service still running this long after the line went quiet gets "one moment" (a locked or
# slow database: SQLite waits up to 15 s for a lock), and a second line if it goes on
HOLD_AFTER_S = 1.5
HOLD_AGAIN_AFTER_S = 6.0
HOLD_ON = ("One moment, I'm still checking.", "Thanks for waiting, I'm still on it.")


def _hold_on(step: int) -> Any:
    """The filler's line for its ``step``; spoken without entering the conversation, so the
    model (and the rules engine's read of the last reply) never takes it for an answer."""
    context = RUN_CONTEXT.get()
    if context is None or step >= len(HOLD_ON):
        return None
    # on the call's record too: a caller kept waiting is a number the dashboard should see
    context.userdata.tags["held_on"] = str(step + 1)
    return context.session.say(HOLD_ON[step], add_to_chat_ctx=False)


def holding_on() -> AbstractAsyncContextManager[None]:
    """While open, silence of ``HOLD_AFTER_S`` on the line during the current tool call is
    filled with a "one moment" (livekit's ``RunContext.with_filler``); outside a tool call
    (start-of-call lookups, the look-ahead, tests calling services) it does nothing."""
    context = RUN_CONTEXT.get()
    if context is None:
        return nullcontext()
    return context.with_filler(
        _hold_on, delay=HOLD_AFTER_S, interval=HOLD_AGAIN_AFTER_S, max_steps=len(HOLD_ON)
    )


async def off_loop(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """``fn(**kwargs)`` in a worker thread (services block on the database), with the
    caller told to hold on when it is slow."""
    started = time.monotonic()
    try:
        async with holding_on():
            return await asyncio.to_thread(functools.partial(fn, **kwargs))
    finally:
        if (took := time.monotonic() - started) > HOLD_AFTER_S:
            name = getattr(fn, "__name__", fn)
            logger.warning("service %s took %.1f s (call %s)", name, took, CALL_ID.get())


async def call_service(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Run a (blocking, database) service in a worker thread; errors become ``ToolError``.

    The ToolError's message is what the model sees and says: our domain messages are written
    to be spoken. Anything unexpected is logged and replaced by a generic apology.
    """
    try:
        return await off_loop(fn, **kwargs)
    except (DomainError, DataUnavailableError) as e:
        raise ToolError(str(e)) from e
    except Exception as e:
        # the call's id, so a worker log with several calls can be matched to the recording
        call = kwargs.get("call_id") or CALL_ID.get()
        logger.exception("service %s failed (call %s)", getattr(fn, "__name__", fn), call)
        raise ToolError(
            "Something went wrong on my side; I can open a support case so a colleague follows up."
        ) from e


async def read_service(state: CallState, fn: Callable[..., T], /, **kwargs: Any) -> T:
    """``call_service`` for a read of the call's database (``db`` is the call's): on the
    look-ahead's copy of the state the read is kept for the real turn, and the real turn takes
    a read kept for it instead of reading again (tools/reads_ahead.py)."""
    CALL_ID.set(state.call_id)
    reads = state.reads_ahead
    key = reads.key(fn, kwargs)
    if state.ahead:
        return await reads.ahead(key, call_service(fn, db=state.db, **kwargs))
    return await reads.behind(key, lambda: call_service(fn, db=state.db, **kwargs))


def state_of(context: RunContext[CallState]) -> CallState:
    """The call's state; every tool starts with it, which marks the tool call in progress
    for ``holding_on``."""
    if isinstance(context, RunContext):
        RUN_CONTEXT.set(context)
    CALL_ID.set(context.userdata.call_id)
    return context.userdata


def require_identified(state: CallState) -> int:
    if state.traveler_id is None:
        raise ToolError(
            "I need to identify you first: please tell me your trip confirmation code and "
            "your last name."
        )
    return state.traveler_id


def caller_date(text: str, today: date, *, earliest: date | None = None) -> date:
    """A date the caller gave, from ``today`` (the day it is where the booking is:
    ``trips.booking_today``) on, or from ``earliest`` when that is sooner; otherwise a
    speakable ToolError."""
    try:
        return parse_date(text, today=today, earliest=earliest)
    except DomainError as e:
        raise ToolError(str(e)) from e
