"""Flight alternatives, changes and cancellations: every amount is computed here, in cents.

A change is two steps, so it can be read back before it is made: ``quote_flight_change`` prices
it (fare difference, change fee, policy and approval check) without writing, and
``change_flight`` commits a quote atomically. The segment's ``version`` is part of the quote:
if the segment moved since (another call, another agent), the change is refused with
``ConflictError`` rather than applied on top.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from navan_voice.db import repositories as repo
from navan_voice.db import tables as t
from navan_voice.db.engine import SessionFactory, transaction
from navan_voice.db.schedule import local_to_utc
from navan_voice.domain.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PolicyViolationError,
    PriceChangedError,
)
from navan_voice.domain.models import (
    CABIN_RANK,
    ApprovalStatus,
    CabinClass,
    CancelQuote,
    ChangeOutcome,
    ChangeQuote,
    ChangeResult,
    FareFamily,
    FlightOption,
    RefundKind,
    SegmentStatus,
    format_money,
)
from navan_voice.services.common import (
    audit,
    cover_in_trip,
    own_segment,
    snapshot,
    utc_now,
)

logger = logging.getLogger(__name__)

# Change fees by fare family (domestic, international); basic fares cannot be changed at all.
CHANGE_FEES_CENTS = {
    FareFamily.MAIN: (7500, 20000),
    FareFamily.REFUNDABLE: (0, 0),
}
INTERNATIONAL = {"LHR"}
# the least time between one flight of a trip landing and its next leaving (a connection)
MIN_CONNECTION = timedelta(minutes=45)
MAX_OPTIONS = 5
SEGMENT_FIELDS = (
    "flight_number",
    "departure_local",
    "departure_tz",
    "arrival_local",
    "cabin",
    "fare_class",
    "fare_cents",
    "status",
    "version",
)


def _is_international(segment: t.FlightSegment) -> bool:
    return bool({segment.origin, segment.destination} & INTERNATIONAL)


def _neighbours(seg: t.FlightSegment) -> tuple[t.FlightSegment | None, t.FlightSegment | None]:
    """The trip's confirmed flights just before and just after ``seg``: a moved flight stays
    between them (an outbound never after its return)."""
    others = sorted(
        (o for o in seg.trip.segments if o.id != seg.id and o.status is SegmentStatus.CONFIRMED),
        key=lambda o: o.departure_utc,
    )
    before = [o for o in others if o.departure_utc < seg.departure_utc]
    after = [o for o in others if o.departure_utc > seg.departure_utc]
    return (before[-1] if before else None), (after[0] if after else None)


def _out_of_order(seg: t.FlightSegment, flight: t.ScheduledFlight) -> str | None:
    """Why moving ``seg`` to ``flight`` would break the trip's order (speakable), or None."""
    before, after = _neighbours(seg)
    arrives = flight.departure_utc + timedelta(minutes=flight.duration_minutes)
    gap = f"{MIN_CONNECTION.seconds // 60} minutes"
    if after is not None and arrives + MIN_CONNECTION > after.departure_utc:
        return (
            f"{flight.flight_number} on {flight.departure_local:%A %B %-d} would not land at "
            f"least {gap} before your next flight, {repo.to_segment(after).label}, leaves. "
            "Please pick an earlier flight, or change that one first."
        )
    if (
        before is not None
        and flight.departure_utc
        < local_to_utc(before.arrival_local, before.arrival_tz) + MIN_CONNECTION
    ):
        return (
            f"{flight.flight_number} on {flight.departure_local:%A %B %-d} would leave less "
            f"than {gap} after your earlier flight, {repo.to_segment(before).label}, lands. "
            "Please pick a later flight, or change that one first."
        )
    return None


def find_alternatives(
    *,
    db: SessionFactory,
    traveler_id: int | None,
    segment_id: int,
    on_date: date | None = None,
    cabin: CabinClass | None = None,
    now: datetime | None = None,
) -> list[FlightOption]:
    """Other flights on the segment's route with seats in ``cabin`` (default: the booked cabin).

    Searches ``on_date`` (local date at the origin), else the booked day and the days either
    side. The flight already booked, flights that already left and flights that would put the
    trip out of order (past its next flight, before its previous one lands) are never offered;
    a day with only the latter is refused with why.
    """
    moment = now or utc_now()
    with transaction(db) as session:
        seg = own_segment(session, traveler_id, segment_id)
        want = cabin or seg.cabin
        day = on_date or seg.departure_local.date()
        span = 1 if on_date else 2
        start = datetime.combine(day - timedelta(days=0 if on_date else 1), datetime.min.time())
        # local dates to a UTC window: widen by a day each side, then filter on the local date
        flights = repo.scheduled_between(
            session,
            seg.origin,
            seg.destination,
            start - timedelta(days=1),
            start + timedelta(days=span + 2),
        )
        options = []
        out_of_order: list[str] = []  # why flights of the day asked for were left out
        for flight in flights:
            local_day = flight.departure_local.date()
            if on_date and local_day != on_date:
                continue
            if not on_date and abs((local_day - day).days) > 1:
                continue
            if flight.departure_utc <= moment or (
                flight.flight_number == seg.flight_number
                and flight.departure_utc == seg.departure_utc
            ):
                continue
            fare = next((f for f in flight.fares if f.cabin is want and f.seats_left > 0), None)
            if fare is None:
                continue
            if (why := _out_of_order(seg, flight)) is not None:
                out_of_order.append(why)
                continue
            options.append(repo.to_option(flight, fare))
        if not options and out_of_order:  # the day asked for is past the next flight, say so
            raise InvalidRequestError(out_of_order[0])
        return options[:MAX_OPTIONS]


def quote_in(
    session: Session,
    *,
    traveler_id: int | None,
    segment_id: int,
    option_id: int,
    cabin: CabinClass | None,
    moment: datetime,
) -> tuple[ChangeQuote, t.FlightSegment, t.ScheduledFlight, t.ScheduledFare]:
    """Price moving a segment to a scheduled flight inside ``session`` (a quote, a change, an
    approval), with the rows it read; refuses what cannot be done (``DomainError``)."""
    seg = own_segment(session, traveler_id, segment_id)
    if seg.status is not SegmentStatus.CONFIRMED:
        raise InvalidRequestError("That flight is cancelled, so there is nothing to change.")
    if seg.departure_utc <= moment:
        raise InvalidRequestError("That flight has already departed, so it cannot be changed.")
    if seg.fare_family is FareFamily.BASIC:
        raise PolicyViolationError(
            "This is a basic economy ticket, which the airline does not allow to be changed. "
            "I can cancel it, though basic fares are not refunded, or connect you to a colleague."
        )
    flight = repo.scheduled_by_id(session, option_id)
    if flight is None or (flight.origin, flight.destination) != (seg.origin, seg.destination):
        raise NotFoundError(
            "That flight is not one of the alternatives on this route; let me look up the "
            "options again."
        )
    if flight.departure_utc <= moment:
        raise InvalidRequestError("That flight has already left; please pick a later one.")
    if (why := _out_of_order(seg, flight)) is not None:
        raise InvalidRequestError(why)
    want = cabin or seg.cabin
    owner = repo.traveler_by_id(session, seg.trip.traveler_id)
    company = repo.company_with_policy(session, owner.company_id) if owner else None
    if company is None or company.policy is None:
        raise NotFoundError("I could not find your company's travel policy.")
    policy = repo.to_policy(company)
    allowed = policy.allowed_cabin(flight.duration_minutes)
    if CABIN_RANK[want] > CABIN_RANK[allowed]:
        raise PolicyViolationError(
            f"{company.name}'s travel policy allows {allowed.value.replace('_', ' ')} on a "
            f"flight of {flight.duration_minutes // 60} hours {flight.duration_minutes % 60} "
            f"minutes, so I cannot book {want.value.replace('_', ' ')}."
        )
    fare = next((f for f in flight.fares if f.cabin is want), None)
    if fare is None or fare.seats_left <= 0:
        raise InvalidRequestError(
            f"{flight.flight_number} has no {want.value.replace('_', ' ')} seats left; "
            "please pick another flight."
        )
    fee = CHANGE_FEES_CENTS[seg.fare_family][1 if _is_international(seg) else 0]
    difference = fare.fare_cents - seg.fare_cents
    due = max(difference, 0) + fee
    credit = max(-difference, 0)
    reasons = []
    if due > policy.approval_threshold_cents:
        reasons.append(
            f"the cost of {format_money(due)} is above the approval limit of "
            f"{format_money(policy.approval_threshold_cents)}"
        )
    days_ahead = (flight.departure_local.date() - moment.date()).days
    if due > 0 and days_ahead < policy.advance_booking_days:
        reasons.append(
            f"it departs within {policy.advance_booking_days} days and adds cost, which "
            "the policy asks a manager to approve"
        )
    quote = ChangeQuote(
        segment_id=seg.id,
        segment_version=seg.version,
        option_id=flight.id,
        old_flight=repo.to_segment(seg).label,
        new_flight=repo.to_option(flight, fare).label,
        cabin=want,
        fare_difference_cents=difference,
        change_fee_cents=fee,
        total_due_cents=due,
        credit_cents=credit,
        needs_approval=bool(reasons),
        approval_reason="; ".join(reasons),
    )
    return quote, seg, flight, fare


def quote_flight_change(
    *,
    db: SessionFactory,
    traveler_id: int | None,
    segment_id: int,
    option_id: int,
    cabin: CabinClass | None = None,
    now: datetime | None = None,
) -> ChangeQuote:
    """Price moving ``segment_id`` to the scheduled flight ``option_id``; writes nothing."""
    moment = now or utc_now()
    with transaction(db) as session:
        quote, *_ = quote_in(
            session,
            traveler_id=traveler_id,
            segment_id=segment_id,
            option_id=option_id,
            cabin=cabin,
            moment=moment,
        )
        return quote


def change_flight(
    *,
    db: SessionFactory,
    traveler_id: int | None,
    quote: ChangeQuote,
    call_id: str,
    now: datetime | None = None,
) -> ChangeResult:
    """Apply a change the caller confirmed, in one transaction with its audit entry.

    The quote is recomputed: if the segment's version or the price moved since it was read
    back, nothing is written and ``ConflictError`` says so. Above the approval threshold the
    segment stays as it is and an approval request is filed instead.
    """
    moment = now or utc_now()
    with transaction(db) as session:
        fresh, seg, flight, fare = quote_in(
            session,
            traveler_id=traveler_id,
            segment_id=quote.segment_id,
            option_id=quote.option_id,
            cabin=quote.cabin,
            moment=moment,
        )
        if fresh.segment_version != quote.segment_version:
            raise ConflictError(
                "This flight was changed by someone else after I read the change back to you, "
                "so I did not apply it. Let me check the booking again."
            )
        if fresh.total_due_cents != quote.total_due_cents:
            raise PriceChangedError(
                f"The price moved since I read it back: it is now "
                f"{format_money(fresh.total_due_cents)} instead of "
                f"{format_money(quote.total_due_cents)}."
            )
        waiting = repo.pending_approval(session, seg.id)  # one change waits at a time
        if waiting is not None and _asked_for_left(session, waiting, moment):
            # nobody decided before the flight it asked for left: it holds up nothing
            close_request(session, waiting, "the flight asked for left", call_id, moment, "expired")
            waiting = None
        if fresh.needs_approval and waiting is not None:
            if waiting.scheduled_flight_id == flight.id:  # a second yes to the same request
                return ChangeResult(
                    ChangeOutcome.SENT_FOR_APPROVAL, fresh, repo.to_segment(seg), waiting.id
                )
            raise ConflictError(
                "A change of this flight is already waiting for your manager's approval; "
                "once they decide, I can look at another. A colleague can withdraw it sooner."
            )
        if fresh.needs_approval:
            approval = t.ApprovalRequest(
                traveler_id=seg.trip.traveler_id,
                segment_id=seg.id,
                scheduled_flight_id=flight.id,
                cabin=fare.cabin,
                total_due_cents=fresh.total_due_cents,
                reason=fresh.approval_reason,
                status=ApprovalStatus.PENDING,
                call_id=call_id,
                created_at_utc=moment,
            )
            session.add(approval)
            session.flush()
            audit(
                session,
                traveler_id=traveler_id,
                call_id=call_id,
                action="flight_change_requested",
                entity="flight_segment",
                entity_id=seg.id,
                before=snapshot(seg, *SEGMENT_FIELDS),
                after={"approval_request": approval.id, "to": flight.flight_number},
                now=moment,
            )
            return ChangeResult(
                ChangeOutcome.SENT_FOR_APPROVAL, fresh, repo.to_segment(seg), approval.id
            )
        if waiting is not None:
            # the request was for the flight this one replaces: nothing is left to approve
            close_request(session, waiting, "the flight was changed without it", call_id, moment)
        return move_segment(
            session,
            seg,
            flight,
            fare,
            fresh,
            traveler_id=traveler_id,
            call_id=call_id,
            moment=moment,
        )


def move_segment(
    session: Session,
    seg: t.FlightSegment,
    flight: t.ScheduledFlight,
    fare: t.ScheduledFare,
    fresh: ChangeQuote,
    *,
    traveler_id: int | None,
    call_id: str,
    moment: datetime,
    approved_by: str | None = None,
) -> ChangeResult:
    """Put ``seg`` on ``flight`` in ``fare``'s cabin, with its audit row (a change the caller
    confirmed, or one a manager approved: ``approved_by``)."""
    before = snapshot(seg, *SEGMENT_FIELDS)
    _release_seat(session, seg)
    seg.flight_number = flight.flight_number
    seg.carrier = flight.carrier
    seg.departure_local = flight.departure_local
    seg.departure_tz = flight.departure_tz
    seg.departure_utc = flight.departure_utc
    seg.arrival_local = flight.arrival_local
    seg.arrival_tz = flight.arrival_tz
    seg.cabin = fare.cabin
    seg.fare_class = fare.fare_class
    seg.fare_cents = fare.fare_cents
    fare.seats_left -= 1
    cover_in_trip(seg.trip, seg.departure_local.date(), seg.arrival_local.date())
    session.flush()  # the versioned UPDATE: a concurrent change makes this one stale
    audit(
        session,
        traveler_id=traveler_id,
        call_id=call_id,
        action="flight_changed",
        entity="flight_segment",
        entity_id=seg.id,
        before=before,
        after=snapshot(seg, *SEGMENT_FIELDS)
        | {"charged_cents": fresh.total_due_cents, "credit_cents": fresh.credit_cents}
        | ({"approved_by": approved_by} if approved_by else {}),
        now=moment,
    )
    logger.info("segment %s changed to %s (call %s)", seg.id, flight.flight_number, call_id)
    return ChangeResult(ChangeOutcome.CHANGED, fresh, repo.to_segment(seg))


def _asked_for_left(session: Session, request: t.ApprovalRequest, moment: datetime) -> bool:
    flight = repo.scheduled_by_id(session, request.scheduled_flight_id)
    return flight is None or flight.departure_utc <= moment


def close_request(
    session: Session,
    request: t.ApprovalRequest,
    why: str,
    call_id: str,
    moment: datetime,
    kind: str = "withdrawn",
) -> None:
    """Close a change waiting for approval that nothing is left to approve (``kind``
    "withdrawn", or "expired" when its flight left undecided), with an audit row saying why.
    The reason ends "(withdrawn: why)" or "(expired: why)", which ``approvals`` reads back."""
    request.status = ApprovalStatus.REJECTED
    request.decided_at_utc = moment  # decided by nobody: closed by the system
    request.reason += f" ({kind}: {why})"
    audit(
        session,
        traveler_id=request.traveler_id,
        call_id=call_id,
        action=f"approval_{kind}",
        entity="approval_request",
        entity_id=request.id,
        before={"status": "pending"},
        after={"status": "rejected", "why": why},
        now=moment,
    )


def _release_seat(session: Session, seg: t.FlightSegment) -> None:
    """The seat a segment held on its scheduled flight goes back on sale (changed or
    cancelled), so the flight does not drift towards a false "sold out"."""
    flight = repo.scheduled_for_segment(session, seg)
    fare = next((f for f in flight.fares if f.cabin == seg.cabin), None) if flight else None
    if fare is not None:
        fare.seats_left += 1


def _cancel_quote(seg: t.FlightSegment, moment: datetime) -> CancelQuote:
    if seg.status is not SegmentStatus.CONFIRMED:
        raise InvalidRequestError("That flight is already cancelled.")
    if seg.departure_utc <= moment:
        raise InvalidRequestError("That flight has already departed, so it cannot be cancelled.")
    label = repo.to_segment(seg).label
    within_24h = moment - seg.booked_at_utc < timedelta(hours=24)
    week_out = seg.departure_utc - seg.booked_at_utc >= timedelta(days=7)
    if within_24h and week_out:
        kind, amount = RefundKind.REFUND, seg.fare_cents
        reason = "it was booked less than 24 hours ago, so the full fare goes back to the card"
    elif seg.fare_family is FareFamily.REFUNDABLE:
        kind, amount = RefundKind.REFUND, seg.fare_cents
        reason = "the fare is refundable, so the full fare goes back to the card"
    elif seg.fare_family is FareFamily.MAIN:
        kind, amount = RefundKind.CREDIT, seg.fare_cents
        reason = "the fare is not refundable, so its value becomes a travel credit"
    else:
        kind, amount = RefundKind.NONE, 0
        reason = "basic economy fares are not refunded and leave no credit"
    return CancelQuote(seg.id, seg.version, label, kind, amount, reason)


def quote_cancellation(
    *, db: SessionFactory, traveler_id: int | None, segment_id: int, now: datetime | None = None
) -> CancelQuote:
    """What cancelling ``segment_id`` gives back (refund, credit or nothing); writes nothing."""
    with transaction(db) as session:
        return _cancel_quote(own_segment(session, traveler_id, segment_id), now or utc_now())


def cancel_segment(
    *,
    db: SessionFactory,
    traveler_id: int | None,
    quote: CancelQuote,
    call_id: str,
    now: datetime | None = None,
) -> CancelQuote:
    """Cancel a segment the caller confirmed; refuses if it changed since the read-back."""
    moment = now or utc_now()
    with transaction(db) as session:
        seg = own_segment(session, traveler_id, quote.segment_id)
        fresh = _cancel_quote(seg, moment)
        if fresh.segment_version != quote.segment_version or fresh.amount_cents != (
            quote.amount_cents
        ):
            raise ConflictError(
                "This flight changed after I read the cancellation back to you, so I did not "
                "cancel it. Let me check the booking again."
            )
        before = snapshot(seg, *SEGMENT_FIELDS)
        seg.status = SegmentStatus.CANCELLED
        _release_seat(session, seg)
        if (waiting := repo.pending_approval(session, seg.id)) is not None:
            close_request(session, waiting, "the flight was cancelled", call_id, moment)
        session.flush()
        audit(
            session,
            traveler_id=traveler_id,
            call_id=call_id,
            action="flight_cancelled",
            entity="flight_segment",
            entity_id=seg.id,
            before=before,
            after=snapshot(seg, *SEGMENT_FIELDS)
            | {"refund_kind": fresh.refund_kind.value, "amount_cents": fresh.amount_cents},
            now=moment,
        )
        return fresh
