"""Running a service from a tool: off the event loop, with domain errors made speakable."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
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
HOLD_AFTER_S = 1.5  # quiet this long in a tool call: "one moment" (a slow or locked database)
HOLD_AGAIN_AFTER_S = 6.0  # and the second line this long after the first
HOLD_ON = ("One moment, I'm still checking.", "Thanks for waiting, I'm still on it.")


@dataclass
class _Hold:
    """One tool call's holding on, shared by all the services it runs: its "one moment" comes
    1.5 s into the tool call, not into each read, and its lines are said once each."""

    context: RunContext[CallState]
    started: float = field(default_factory=time.monotonic)
    said: int = 0  # lines of HOLD_ON said so far
    open: bool = False  # a filler is scheduled (nested services add none)


# the tool call in progress (set by ``state_of``, in the tool's own task: livekit runs each
# tool call in a task of its own); unset on the look-ahead, whose context is no RunContext
_HOLD: ContextVar[_Hold | None] = ContextVar("navan_hold", default=None)


def _hold_line(hold: _Hold) -> Callable[[int], Any]:
    def line(_step: int) -> Any:
        """The next line for this tool call, spoken outside the conversation, so the model
        (and the rules engine's read of the last reply) never takes it for an answer; none
        when a parallel tool call of the same call has just said one."""
        state = hold.context.userdata
        now = time.monotonic()
        if hold.said >= len(HOLD_ON) or now - state.held_at < HOLD_AFTER_S:
            return None
        text = HOLD_ON[hold.said]
        hold.said += 1
        state.held_at = now
        # on the call's record too: a caller kept waiting is a number the dashboard should see
        state.tags["held_on"] = str(hold.said)
        return hold.context.session.say(text, add_to_chat_ctx=False)

    return line


@asynccontextmanager
async def holding_on() -> AsyncIterator[None]:
    """While open, quiet on the line ``HOLD_AFTER_S`` into the current tool call is filled
    with "one moment", and ``HOLD_AGAIN_AFTER_S`` later with a second line (livekit's
    ``RunContext.with_filler``). Outside a tool call (start-of-call lookups, the look-ahead,
    tests calling services), or inside another ``holding_on``, it adds nothing."""
    hold = _HOLD.get()
    if hold is None or hold.open or hold.said >= len(HOLD_ON):
        yield
        return
    # a line is due HOLD_AFTER_S into the tool call, and never sooner than HOLD_AGAIN_AFTER_S
    # after the last line the call heard (from this tool call or the one before it)
    heard = hold.context.userdata.held_at
    due = max(hold.started + HOLD_AFTER_S, heard + HOLD_AGAIN_AFTER_S if heard else 0.0)
    delay = max(0.0, due - time.monotonic())
    hold.open = True
    try:
        # livekit waits ``interval``, then ``delay`` of quiet again, between two lines
        async with hold.context.with_filler(
            _hold_line(hold), delay=delay, interval=max(0.0, HOLD_AGAIN_AFTER_S - delay),
            max_steps=len(HOLD_ON) - hold.said,
        ):  # fmt: skip
            yield
    finally:
        hold.open = False


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
    async with holding_on():  # a read the look-ahead started may be the slow one
        return await reads.behind(key, lambda: call_service(fn, db=state.db, **kwargs))


def state_of(context: RunContext[CallState]) -> CallState:
    """The call's state; every tool starts with it, which marks the tool call in progress
    for ``holding_on``."""
    hold = _HOLD.get()
    if isinstance(context, RunContext) and (hold is None or hold.context is not context):
        _HOLD.set(_Hold(context))
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
