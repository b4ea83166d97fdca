"""Running a service from a tool: off the event loop, with domain errors made speakable."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from livekit.agents import RunContext
from livekit.agents.llm import ToolError

from navan_voice.domain.errors import DataUnavailableError, DomainError
from navan_voice.services.common import parse_date, utc_now
from navan_voice.tools.state import CallState

logger = logging.getLogger(__name__)
T = TypeVar("T")


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
        logger.exception("service %s failed", getattr(fn, "__name__", fn))
        raise ToolError(
            "Something went wrong on my side; I can open a support case so a colleague follows up."
        ) from e


def state_of(context: RunContext[CallState]) -> CallState:
    return context.userdata


def require_identified(state: CallState) -> int:
    if state.traveler_id is None:
        raise ToolError(
            "I need to identify you first: please tell me your trip confirmation code and "
            "your last name."
        )
    return state.traveler_id


def caller_date(text: str) -> date:
    """A date the caller gave, as a date from today on; otherwise a speakable ToolError."""
    try:
        return parse_date(text, today=utc_now().date())
    except DomainError as e:
        raise ToolError(str(e)) from e
