"""Running a service from a tool: off the event loop, with domain errors made speakable."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
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
# the call a service runs for, for its error log (set by read_service, in the tool's task)
CALL_ID: ContextVar[str] = ContextVar("navan_call_id", default="unknown")


async def call_service(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Run a (blocking, database) service in a worker thread; errors become ``ToolError``.

    The ToolError's message is what the model sees and says: our domain messages are written
    to be spoken. Anything unexpected is logged and replaced by a generic apology.
    """
    try:
        return await asyncio.to_thread(functools.partial(fn, **kwargs))
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
