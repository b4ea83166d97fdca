"""The day it is for the caller being answered: what their "today" and "tomorrow" count from.

The engine is loaded once per worker and answers many calls, so the day cannot be a setting:
before each reply the agent names the time zone of the booking discussed (``CALLER_ZONE``,
a context variable, so two calls on one worker never see each other's).
"""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from zoneinfo import ZoneInfo

CALLER_ZONE: ContextVar[str | None] = ContextVar("navan_caller_zone", default=None)


def caller_today() -> dt.date:
    """Today where the booking discussed is; on the worker's own clock (its ``TZ``) when no
    booking is discussed yet."""
    zone = CALLER_ZONE.get()
    if zone is None:
        return dt.date.today()
    return dt.datetime.now(ZoneInfo(zone)).date()
