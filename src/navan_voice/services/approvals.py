"""A manager's side of flight changes above the approval limit: list, approve, reject.

A change the policy sends for approval is filed by ``flights.change_flight`` and waits. When a
manager approves it, the change is priced again and made as the traveler asked (same flight,
same cabin); it is refused, and the request left waiting, when it can no longer be made as
asked: the flight left or is full, the trip's order would break, or the price rose.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from navan_voice.db import repositories as repo
from navan_voice.db import tables as t
from navan_voice.db.engine import SessionFactory, transaction
from navan_voice.domain.errors import (
    ConflictError,
    DomainError,
    InvalidRequestError,
    NotFoundError,
    RequestExpiredError,
)
from navan_voice.domain.models import (
    Approval,
    ApprovalStatus,
    ChangeResult,
    format_money,
)
from navan_voice.services import flights
from navan_voice.services.common import audit, require_traveler, utc_now

logger = logging.getLogger(__name__)
# how a request closed by the system ends its reason (flights.close_request)
_CLOSED = re.compile(r"\((withdrawn|expired): [^()]*\)$")


def _view(session: Session, row: t.ApprovalRequest, now: datetime | None = None) -> Approval:
    seg = repo.segment_by_id(session, row.segment_id)
    flight = repo.scheduled_by_id(session, row.scheduled_flight_id)
    traveler = repo.traveler_by_id(session, row.traveler_id)
    if seg is None or flight is None or traveler is None:
        raise NotFoundError(f"Approval request {row.id} points at a booking that is gone.")
    cabin = row.cabin or seg.cabin
    requested = next((f for f in flight.fares if f.cabin is cabin), None) or flight.fares[0]
    return Approval(
        id=row.id,
        traveler=f"{traveler.first_name} {traveler.last_name}",
        company=traveler.company.name,
        booked_flight=repo.to_segment(seg).label,
        requested_flight=repo.to_option(flight, requested).label,
        cabin=cabin,
        total_due_cents=row.total_due_cents,
        reason=row.reason,
        status=row.status,
        call_id=row.call_id,
        created_at_utc=row.created_at_utc,
        decided_by=row.decided_by,
        decided_at_utc=row.decided_at_utc,
        flight_left=flight.departure_utc <= (now or utc_now()),
        closed_as=closed.group(1) if (closed := _CLOSED.search(row.reason)) else None,
        told_on_call=row.told_on_call,
    )


def list_approvals(
    *, db: SessionFactory, status: ApprovalStatus | None = ApprovalStatus.PENDING
) -> list[Approval]:
    """Approval requests, oldest first; ``status=None`` for all of them."""
    with transaction(db) as session:
        query = select(t.ApprovalRequest).order_by(t.ApprovalRequest.id)
        if status is not None:
            query = query.where(t.ApprovalRequest.status == status)
        return [_view(session, row) for row in session.scalars(query)]


def traveler_requests(
    *, db: SessionFactory, traveler_id: int | None, now: datetime | None = None, days: int = 30
) -> list[Approval]:
    """The caller's own requests: those waiting, and those decided or filed in the last
    ``days``, newest first."""
    since = (now or utc_now()) - timedelta(days=days)
    with transaction(db) as session:
        require_traveler(session, traveler_id)
        rows = session.scalars(
            select(t.ApprovalRequest)
            .where(t.ApprovalRequest.traveler_id == traveler_id)
            .order_by(t.ApprovalRequest.id.desc())
        )
        return [
            _view(session, row, now)
            for row in rows
            if row.status is ApprovalStatus.PENDING
            or max(row.created_at_utc, row.decided_at_utc or row.created_at_utc) >= since
        ]


def decisions_to_tell(
    *,
    db: SessionFactory,
    traveler_id: int,
    call_id: str,
    now: datetime | None = None,
    days: int = 30,
    limit: int = 3,
) -> list[Approval]:
    """Decisions on the traveler's requests they have not heard yet (approved, not approved,
    expired; in the last ``days``), newest first, at most ``limit``: each is marked told on
    ``call_id`` as it is read, so it is told once, on one call, even when two calls start
    together. A request withdrawn by the traveler's own later change is no news."""
    moment = now or utc_now()
    with transaction(db) as session:
        rows = session.scalars(
            select(t.ApprovalRequest)
            .where(
                t.ApprovalRequest.traveler_id == traveler_id,
                t.ApprovalRequest.status != ApprovalStatus.PENDING,
                t.ApprovalRequest.decided_at_utc >= moment - timedelta(days=days),
                t.ApprovalRequest.told_at_utc.is_(None),
            )
            .order_by(t.ApprovalRequest.id.desc())
        ).all()
        news: list[Approval] = []
        for row in rows:
            view = _view(session, row, moment)
            if view.closed_as == "withdrawn":
                continue
            if _mark_told(session, row.id, call_id, moment):
                news.append(replace(view, told_on_call=call_id))
            if len(news) == limit:
                break
        return news


def mark_told(
    *, db: SessionFactory, approval_ids: list[int], call_id: str, now: datetime | None = None
) -> None:
    """The traveler heard these decisions on ``call_id`` (they asked where their requests
    stand), so the next call's greeting does not tell them again."""
    moment = now or utc_now()
    with transaction(db) as session:
        for approval_id in approval_ids:
            _mark_told(session, approval_id, call_id, moment)


def _mark_told(session: Session, approval_id: int, call_id: str, moment: datetime) -> bool:
    """Mark a decided request told, once: conditional, so of two calls telling it at the same
    time one marks it. Whether this call did."""
    told = session.execute(
        update(t.ApprovalRequest)
        .where(
            t.ApprovalRequest.id == approval_id,
            t.ApprovalRequest.status != ApprovalStatus.PENDING,
            t.ApprovalRequest.told_at_utc.is_(None),
        )
        .values(told_at_utc=moment, told_on_call=call_id)
        .execution_options(synchronize_session=False)
    )
    return bool(told.rowcount == 1)  # type: ignore[attr-defined]


def _waiting(session: Session, approval_id: int) -> t.ApprovalRequest:
    row = session.get(t.ApprovalRequest, approval_id)
    if row is None:
        raise NotFoundError(
            f"There is no approval request {approval_id}; `navan-voice approvals list` shows "
            "the ones waiting."
        )
    if row.status is not ApprovalStatus.PENDING:
        when = f" on {row.decided_at_utc:%B %-d at %H:%M} UTC" if row.decided_at_utc else ""
        by = f" by {row.decided_by}" if row.decided_by else ""
        raise InvalidRequestError(
            f"Approval request {approval_id} was already {row.status.value}{by}{when}."
        )
    return row


def _claim(
    session: Session,
    row: t.ApprovalRequest,
    status: ApprovalStatus,
    who: str | None,
    moment: datetime,
) -> None:
    """Decide ``row`` only if it is still pending, as one conditional UPDATE: of two managers
    deciding at once, one wins and the other is told (and its transaction, a flight change
    included, is rolled back)."""
    claimed = session.execute(
        update(t.ApprovalRequest)
        .where(t.ApprovalRequest.id == row.id, t.ApprovalRequest.status == ApprovalStatus.PENDING)
        .values(status=status, decided_by=who, decided_at_utc=moment)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(
            f"Approval request {row.id} was decided by someone else a moment ago; "
            "`navan-voice approvals list --all` shows how."
        )
    session.refresh(row)


def _decider(decided_by: str) -> str:
    name = decided_by.strip()
    if not name:
        raise InvalidRequestError("Say who decides (a manager's name or email), for the audit.")
    return name[:120]


def approve(
    *, db: SessionFactory, approval_id: int, decided_by: str, now: datetime | None = None
) -> ChangeResult:
    """Make the change a request asked for, priced again now; the request is then approved.

    Refused (``DomainError``, the request still waiting) when the change can no longer be
    made as asked, or costs more than the amount the request was filed for.
    """
    who = _decider(decided_by)
    moment = now or utc_now()
    try:
        return _approve(db, approval_id, who, moment)
    except RequestExpiredError:
        _expire(db, approval_id, moment)
        raise


def _approve(db: SessionFactory, approval_id: int, who: str, moment: datetime) -> ChangeResult:
    with transaction(db) as session:
        row = _waiting(session, approval_id)
        _claim(session, row, ApprovalStatus.APPROVED, who, moment)
        requested = repo.scheduled_by_id(session, row.scheduled_flight_id)
        if requested is not None and requested.departure_utc <= moment:
            raise RequestExpiredError(
                f"Approval request {approval_id} asked for {requested.flight_number}, which has "
                "already left; it is closed as expired."
            )
        try:
            fresh, seg, flight, fare = flights.quote_in(
                session,
                traveler_id=row.traveler_id,
                segment_id=row.segment_id,
                option_id=row.scheduled_flight_id,
                cabin=row.cabin,
                moment=moment,
            )
        except DomainError as e:
            raise type(e)(f"Approval request {approval_id} cannot be made as asked: {e}") from e
        if fresh.total_due_cents > row.total_due_cents:
            raise InvalidRequestError(
                f"Approval request {approval_id} was for {format_money(row.total_due_cents)}; "
                f"the change now costs {format_money(fresh.total_due_cents)}. Reject it, and "
                "the traveler can ask again at the new price."
            )
        result = flights.move_segment(
            session,
            seg,
            flight,
            fare,
            fresh,
            traveler_id=row.traveler_id,
            call_id=decision_id(approval_id),
            moment=moment,
            approved_by=who,
        )
        audit(
            session,
            traveler_id=row.traveler_id,
            call_id=decision_id(approval_id),
            action="approval_approved",
            entity="approval_request",
            entity_id=row.id,
            before={"status": "pending"},
            after={"status": "approved", "by": who, "filed_on_call": row.call_id},
            now=moment,
        )
        logger.info("approval request %s approved by %s", approval_id, who)
        return result


def decision_id(approval_id: int) -> str:
    """What a manager's decision is logged under in the audit log, in place of a call's id
    (the call that filed the request is in the row's ``filed_on_call``)."""
    return f"approval:{approval_id}"


def _expire(db: SessionFactory, approval_id: int, moment: datetime) -> None:
    """Close a request that can never be made (its flight left), so the traveler hears so and
    another change of their flight is not held up behind it."""
    with transaction(db) as session:
        row = _waiting(session, approval_id)
        _claim(session, row, ApprovalStatus.REJECTED, None, moment)  # closed, by nobody
        flights.close_request(
            session, row, "the flight asked for left", decision_id(approval_id), moment, "expired"
        )


def reject(
    *,
    db: SessionFactory,
    approval_id: int,
    decided_by: str,
    why: str = "",
    now: datetime | None = None,
) -> Approval:
    """Close a request unmade; the booking stays as it is."""
    who = _decider(decided_by)
    moment = now or utc_now()
    with transaction(db) as session:
        row = _waiting(session, approval_id)
        _claim(session, row, ApprovalStatus.REJECTED, who, moment)
        if why.strip():
            row.reason += f" (rejected: {why.strip()})"
        audit(
            session,
            traveler_id=row.traveler_id,
            call_id=decision_id(approval_id),
            action="approval_rejected",
            entity="approval_request",
            entity_id=row.id,
            before={"status": "pending"},
            after={
                "status": "rejected",
                "by": who,
                "why": why.strip(),
                "filed_on_call": row.call_id,
            },
            now=moment,
        )
        logger.info("approval request %s rejected by %s", approval_id, who)
        return _view(session, row)
