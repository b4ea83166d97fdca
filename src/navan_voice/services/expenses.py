"""Expense report status."""

from __future__ import annotations

from navan_voice.db import repositories as repo
from navan_voice.db.engine import SessionFactory, transaction
from navan_voice.domain.errors import NotFoundError
from navan_voice.domain.models import Expense
from navan_voice.services.common import require_traveler


def expense_status(
    *, db: SessionFactory, traveler_id: int | None, merchant: str = ""
) -> list[Expense]:
    """The caller's expenses, newest first; ``merchant`` narrows them (case-insensitive)."""
    with transaction(db) as session:
        require_traveler(session, traveler_id)
        assert traveler_id is not None
        rows = [repo.to_expense(r) for r in repo.expenses_for(session, traveler_id)]
    wanted = merchant.strip().lower()
    found = [e for e in rows if wanted in e.merchant.lower()] if wanted else rows
    if not found:
        what = f" from {merchant.strip()}" if wanted else ""
        raise NotFoundError(f"I found no expenses{what} on your account.")
    return found
