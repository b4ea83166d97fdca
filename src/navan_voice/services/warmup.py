"""Run the read-only lookups once in a fresh worker process, before its first call.

Each call gets a new job process, and the first lookup in a process costs ≈20 ms instead of
≈2 ms (SQLAlchemy compiles and caches each statement and loader on first use, and the pool
opens its connection). Without this, a caller's first question pays that inside the turn
(bench/REPORT.md, session 14). The lookups read one traveler's data and write nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from navan_voice.db import repositories as repo
from navan_voice.db.engine import SessionFactory, transaction
from navan_voice.domain.errors import DomainError
from navan_voice.services import expenses, flights, hotels, identity, policy, trips

logger = logging.getLogger(__name__)

UNKNOWN_PHONE = "+15550000000"  # a valid number no profile holds: the phone lookup finds nobody


def warm_lookups(db: SessionFactory) -> int:
    """The tools' read-only lookups, once, on some traveler's data; returns how many ran.
    An empty database (no traveler with a trip) warms only the phone lookup. A lookup that
    fails is logged and skipped: warming must never stop a worker from starting."""
    started = time.perf_counter()
    ran = 0

    def run(name: str, fn: Callable[..., object], **kwargs: object) -> object:
        nonlocal ran
        try:
            result = fn(db=db, **kwargs)
        except DomainError as e:  # e.g. several flights match "": a lookup all the same
            logger.debug("warm-up %s: %s", name, e)
            result = None
        except Exception as e:  # a warm-up must not stop the worker
            logger.warning("warm-up %s failed: %s", name, e)
            return None
        ran += 1
        return result

    run("identify_by_phone", identity.identify_by_phone, phone=UNKNOWN_PHONE)
    try:
        with transaction(db) as session:
            traveler = repo.any_traveler_with_trip(session)
    except Exception as e:  # the database is down or has no schema yet
        logger.warning("warm-up skipped: %s", e)
        return ran
    if traveler is not None:
        found = run("upcoming_segments", trips.upcoming_segments, traveler_id=traveler)
        run("list_upcoming_trips", trips.list_upcoming_trips, traveler_id=traveler)
        run("resolve_segment", trips.resolve_segment, traveler_id=traveler, reference="")
        run("upcoming_hotels", trips.upcoming_hotels, traveler_id=traveler)
        run("list_car_rentals", hotels.list_car_rentals, traveler_id=traveler)
        run("get_policy", policy.get_policy, traveler_id=traveler)
        run("expense_status", expenses.expense_status, traveler_id=traveler)
        if isinstance(found, list) and found:
            segment = found[0].id
            run("get_segment", trips.get_segment, traveler_id=traveler, segment_id=segment)
            run(
                "quote_cancellation",
                flights.quote_cancellation,
                traveler_id=traveler,
                segment_id=segment,
            )
    logger.info(
        "database lookups warmed: %d in %.0f ms", ran, (time.perf_counter() - started) * 1000
    )
    return ran
