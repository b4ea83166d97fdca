"""Support cases: a summary for a human colleague, written so nobody asks the caller again."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from navan_voice.db import repositories as repo
from navan_voice.db import tables as t
from navan_voice.db.engine import SessionFactory, transaction
from navan_voice.domain.errors import InvalidRequestError
from navan_voice.domain.models import CaseStatus, SupportCase
from navan_voice.services.common import audit, utc_now

logger = logging.getLogger(__name__)

CATEGORIES = ("flight", "hotel", "car", "expense", "policy", "account", "other")


def open_case(
    *,
    db: SessionFactory,
    traveler_id: int | None,
    call_id: str,
    summary: str,
    category: str = "other",
    now: datetime | None = None,
) -> SupportCase:
    """Open a case for a human; works for unidentified callers too (traveler unknown)."""
    text = " ".join(summary.split())
    if len(text) < 10:
        raise InvalidRequestError(
            "A case needs a short summary of what the caller needs; please describe it."
        )
    cat = category.strip().lower() if category.strip().lower() in CATEGORIES else "other"
    with transaction(db) as session:
        row = t.SupportCase(
            reference="CS-" + secrets.token_hex(3).upper(),
            traveler_id=traveler_id,
            call_id=call_id,
            category=cat,
            summary=text[:4000],
            status=CaseStatus.OPEN,
            created_at_utc=now or utc_now(),
        )
        session.add(row)
        session.flush()
        audit(
            session,
            traveler_id=traveler_id,
            call_id=call_id,
            action="case_opened",
            entity="support_case",
            entity_id=row.id,
            before=None,
            after={"reference": row.reference, "category": cat},
            now=now,
        )
        logger.info("support case %s opened (call %s)", row.reference, call_id)
        return repo.to_case(row)
