"""Alternatives, priced changes, approvals, cancellations, and the audit trail."""

from __future__ import annotations

import threading
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from navan_voice.db import tables as t
from navan_voice.db.engine import SessionFactory, transaction
from navan_voice.db.seed import DEMO_PHONE
from navan_voice.domain.errors import (
    ConflictError,
    InvalidRequestError,
    NotAuthorizedError,
    PolicyViolationError,
)
from navan_voice.domain.models import CabinClass, ChangeOutcome, RefundKind, SegmentStatus
from navan_voice.services import flights, identity, trips
from navan_voice.services.common import utc_now

pytestmark = pytest.mark.unit


def _traveler(db: SessionFactory, phone: str = DEMO_PHONE) -> int:
    found = identity.identify_by_phone(db=db, phone=phone)
    assert found is not None
    return found.id


def _segment_id(db: SessionFactory, traveler_id: int, ref: str) -> int:
    return trips.resolve_segment(db=db, traveler_id=traveler_id, reference=ref).id


def _audit(db: SessionFactory, call_id: str) -> list[t.AuditEntry]:
    with transaction(db) as s:
        return list(s.scalars(select(t.AuditEntry).where(t.AuditEntry.call_id == call_id)))


def test_alternatives_are_real_other_flights(db: SessionFactory) -> None:
    alex = _traveler(db)
    seg = trips.resolve_segment(db=db, traveler_id=alex, reference="UA 1542")
    options = flights.find_alternatives(db=db, traveler_id=alex, segment_id=seg.id)
    assert options, "the seeded schedule has flights either side of the booked one"
    for opt in options:
        assert (opt.origin, opt.destination, opt.cabin) == ("SFO", "JFK", CabinClass.ECONOMY)
        assert opt.seats_left > 0
        assert abs((opt.departure_local.date() - seg.departure_local.date()).days) <= 1
        assert (opt.flight_number, opt.departure_local) != (seg.flight_number, seg.departure_local)


def test_alternatives_on_a_given_date(db: SessionFactory) -> None:
    alex = _traveler(db)
    seg = trips.resolve_segment(db=db, traveler_id=alex, reference="UA 1542")
    day = seg.departure_local.date() + timedelta(days=2)
    options = flights.find_alternatives(db=db, traveler_id=alex, segment_id=seg.id, on_date=day)
    assert options and all(o.departure_local.date() == day for o in options)


def test_quote_then_change_is_applied_and_audited(db: SessionFactory) -> None:
    alex = _traveler(db)
    seg = trips.resolve_segment(db=db, traveler_id=alex, reference="UA 1542")
    option = flights.find_alternatives(db=db, traveler_id=alex, segment_id=seg.id)[0]
    quote = flights.quote_flight_change(
        db=db, traveler_id=alex, segment_id=seg.id, option_id=option.id
    )
    assert quote.fare_difference_cents == option.fare_cents - seg.fare_cents
    assert quote.change_fee_cents == flights.CHANGE_FEES_CENTS[seg.fare_family][0]
    assert quote.total_due_cents == max(quote.fare_difference_cents, 0) + quote.change_fee_cents
    if quote.needs_approval:
        pytest.skip("the seeded fares put this change above the approval limit")
    result = flights.change_flight(db=db, traveler_id=alex, quote=quote, call_id="call-1")
    assert result.outcome is ChangeOutcome.CHANGED
    assert result.segment.flight_number == option.flight_number
    assert result.segment.departure_local == option.departure_local
    assert result.segment.version == seg.version + 1
    [entry] = _audit(db, "call-1")
    assert entry.action == "flight_changed" and entry.entity_id == seg.id
    assert entry.before and entry.before["flight_number"] == seg.flight_number
    assert entry.after and entry.after["flight_number"] == option.flight_number


def test_first_class_is_refused_by_policy(db: SessionFactory) -> None:
    alex = _traveler(db)
    seg = trips.resolve_segment(db=db, traveler_id=alex, reference="UA 1542")
    option = flights.find_alternatives(db=db, traveler_id=alex, segment_id=seg.id)[0]
    for cabin in (CabinClass.BUSINESS, CabinClass.FIRST):
        with pytest.raises(PolicyViolationError, match="policy allows economy"):
            flights.quote_flight_change(
                db=db, traveler_id=alex, segment_id=seg.id, option_id=option.id, cabin=cabin
            )


def test_business_allowed_on_long_haul(db: SessionFactory) -> None:
    priya = _traveler(db, "+14155550188")
    seg = trips.resolve_segment(db=db, traveler_id=priya, reference="")
    option = flights.find_alternatives(db=db, traveler_id=priya, segment_id=seg.id)[0]
    quote = flights.quote_flight_change(
        db=db, traveler_id=priya, segment_id=seg.id, option_id=option.id
    )
    assert quote.cabin is CabinClass.BUSINESS and quote.change_fee_cents == 0


def test_change_above_threshold_goes_for_approval(db: SessionFactory) -> None:
    alex = _traveler(db)
    seg = trips.resolve_segment(db=db, traveler_id=alex, reference="UA 1542")
    option = flights.find_alternatives(db=db, traveler_id=alex, segment_id=seg.id)[0]
    with transaction(db) as s:  # make the alternative dear: $1,000 more than the booked fare
        fare = s.scalars(
            select(t.ScheduledFare).where(
                t.ScheduledFare.flight_id == option.id, t.ScheduledFare.cabin == "economy"
            )
        ).one()
        fare.fare_cents = seg.fare_cents + 100_000
    quote = flights.quote_flight_change(
        db=db, traveler_id=alex, segment_id=seg.id, option_id=option.id
    )
    assert quote.needs_approval and "approval limit" in quote.approval_reason
    result = flights.change_flight(db=db, traveler_id=alex, quote=quote, call_id="call-2")
    assert result.outcome is ChangeOutcome.SENT_FOR_APPROVAL and result.approval_id
    unchanged = trips.resolve_segment(db=db, traveler_id=alex, reference="UA 1542")
    assert unchanged.version == seg.version
    assert [e.action for e in _audit(db, "call-2")] == ["flight_change_requested"]


def _dear(db: SessionFactory, option_id: int, cents: int) -> None:
    """Put an alternative's economy fare at ``cents``."""
    with transaction(db) as s:
        fare = s.scalars(
            select(t.ScheduledFare).where(
                t.ScheduledFare.flight_id == option_id, t.ScheduledFare.cabin == "economy"
            )
        ).one()
        fare.fare_cents = cents


def _approvals(db: SessionFactory, segment_id: int) -> list[tuple[int, str]]:
    with transaction(db) as s:
        rows = s.scalars(
            select(t.ApprovalRequest).where(t.ApprovalRequest.segment_id == segment_id)
        )
        return [(r.scheduled_flight_id, r.status.value) for r in rows]


def test_one_change_waits_for_approval_at_a_time(db: SessionFactory) -> None:
    """A second yes to the same change files nothing new; another change waiting beside it
    is refused; a change made directly withdraws the one waiting."""
    alex = _traveler(db)
    seg = trips.resolve_segment(db=db, traveler_id=alex, reference="UA 1542")
    first, second, *_ = flights.find_alternatives(db=db, traveler_id=alex, segment_id=seg.id)
    for option in (first, second):
        _dear(db, option.id, seg.fare_cents + 100_000)
    quote = flights.quote_flight_change(
        db=db, traveler_id=alex, segment_id=seg.id, option_id=first.id
    )
    r1 = flights.change_flight(db=db, traveler_id=alex, quote=quote, call_id="call-a")
    r2 = flights.change_flight(db=db, traveler_id=alex, quote=quote, call_id="call-a")
    assert r1.approval_id == r2.approval_id
    assert _approvals(db, seg.id) == [(first.id, "pending")]
    other = flights.quote_flight_change(
        db=db, traveler_id=alex, segment_id=seg.id, option_id=second.id
    )
    with pytest.raises(ConflictError, match="already waiting"):
        flights.change_flight(db=db, traveler_id=alex, quote=other, call_id="call-a")
    # the second alternative made cheap again: changed at once, and the request is withdrawn
    _dear(db, second.id, seg.fare_cents)
    cheap = flights.quote_flight_change(
        db=db, traveler_id=alex, segment_id=seg.id, option_id=second.id
    )
    if cheap.needs_approval:
        pytest.skip("the seeded schedule puts this flight inside the advance-booking window")
    done = flights.change_flight(db=db, traveler_id=alex, quote=cheap, call_id="call-a")
    assert done.outcome is ChangeOutcome.CHANGED
    assert _approvals(db, seg.id) == [(first.id, "rejected")]


def test_cancelling_a_flight_withdraws_the_change_waiting_for_approval(db: SessionFactory) -> None:
    alex = _traveler(db)
    seg = trips.resolve_segment(db=db, traveler_id=alex, reference="UA 1542")
    option = flights.find_alternatives(db=db, traveler_id=alex, segment_id=seg.id)[0]
    _dear(db, option.id, seg.fare_cents + 100_000)
    quote = flights.quote_flight_change(
        db=db, traveler_id=alex, segment_id=seg.id, option_id=option.id
    )
    flights.change_flight(db=db, traveler_id=alex, quote=quote, call_id="call-w")
    cancel = flights.quote_cancellation(db=db, traveler_id=alex, segment_id=seg.id)
    flights.cancel_segment(db=db, traveler_id=alex, quote=cancel, call_id="call-w")
    assert _approvals(db, seg.id) == [(option.id, "rejected")]
    # the withdrawal is on the audit trail, told apart from a manager's rejection
    assert "approval_withdrawn" in [e.action for e in _audit(db, "call-w")]


def _seats(db: SessionFactory, flight_number: str, departure_local: object) -> int:
    with transaction(db) as s:
        flight = s.scalars(
            select(t.ScheduledFlight).where(
                t.ScheduledFlight.flight_number == flight_number,
                t.ScheduledFlight.departure_local == departure_local,
            )
        ).one()
        return next(f.seats_left for f in flight.fares if f.cabin == "economy")


def test_a_changed_or_cancelled_flight_gives_its_seat_back(db: SessionFactory) -> None:
    alex = _traveler(db)
    seg = trips.resolve_segment(db=db, traveler_id=alex, reference="UA 1542")
    option = flights.find_alternatives(db=db, traveler_id=alex, segment_id=seg.id)[0]
    _dear(db, option.id, seg.fare_cents)  # no approval needed
    old_before = _seats(db, seg.flight_number, seg.departure_local)
    new_before = _seats(db, option.flight_number, option.departure_local)
    quote = flights.quote_flight_change(
        db=db, traveler_id=alex, segment_id=seg.id, option_id=option.id
    )
    if quote.needs_approval:
        pytest.skip("the seeded schedule puts this flight inside the advance-booking window")
    flights.change_flight(db=db, traveler_id=alex, quote=quote, call_id="call-s")
    assert _seats(db, seg.flight_number, seg.departure_local) == old_before + 1
    assert _seats(db, option.flight_number, option.departure_local) == new_before - 1
    cancel = flights.quote_cancellation(db=db, traveler_id=alex, segment_id=seg.id)
    flights.cancel_segment(db=db, traveler_id=alex, quote=cancel, call_id="call-s")
    assert _seats(db, option.flight_number, option.departure_local) == new_before


def test_a_flight_moved_past_its_trips_end_keeps_the_trip_upcoming(db: SessionFactory) -> None:
    alex = _traveler(db)
    seg = trips.resolve_segment(db=db, traveler_id=alex, reference="UA 1543")  # the return
    trip = next(
        tr for tr in trips.list_upcoming_trips(db=db, traveler_id=alex) if seg in tr.segments
    )
    later = seg.departure_local.date() + timedelta(days=2)
    option = flights.find_alternatives(db=db, traveler_id=alex, segment_id=seg.id, on_date=later)[0]
    _dear(db, option.id, seg.fare_cents)
    quote = flights.quote_flight_change(
        db=db, traveler_id=alex, segment_id=seg.id, option_id=option.id
    )
    flights.change_flight(db=db, traveler_id=alex, quote=quote, call_id="call-t")
    moved = next(
        tr
        for tr in trips.list_upcoming_trips(db=db, traveler_id=alex)
        if tr.confirmation_code == trip.confirmation_code
    )
    assert moved.end_date >= option.arrival_local.date() > trip.end_date


def test_basic_fare_cannot_change(db: SessionFactory) -> None:
    alex = _traveler(db)
    seg = trips.resolve_segment(db=db, traveler_id=alex, reference="WN 2210")
    options = flights.find_alternatives(db=db, traveler_id=alex, segment_id=seg.id)
    with pytest.raises(PolicyViolationError, match="basic economy"):
        flights.quote_flight_change(
            db=db, traveler_id=alex, segment_id=seg.id, option_id=options[0].id
        )


def test_other_travelers_segment_is_refused(db: SessionFactory) -> None:
    alex, priya = _traveler(db), _traveler(db, "+14155550188")
    priya_seg = _segment_id(db, priya, "")
    with pytest.raises(NotAuthorizedError):
        flights.find_alternatives(db=db, traveler_id=alex, segment_id=priya_seg)
    with pytest.raises(NotAuthorizedError):
        flights.quote_cancellation(db=db, traveler_id=alex, segment_id=priya_seg)


def test_stale_quote_is_a_conflict(db: SessionFactory) -> None:
    alex = _traveler(db)
    seg_id = _segment_id(db, alex, "UA 1542")
    first, second = flights.find_alternatives(db=db, traveler_id=alex, segment_id=seg_id)[:2]
    q1 = flights.quote_flight_change(db=db, traveler_id=alex, segment_id=seg_id, option_id=first.id)
    q2 = flights.quote_flight_change(
        db=db, traveler_id=alex, segment_id=seg_id, option_id=second.id
    )
    assert not q1.needs_approval
    flights.change_flight(db=db, traveler_id=alex, quote=q1, call_id="call-a")
    with pytest.raises(ConflictError):
        flights.change_flight(db=db, traveler_id=alex, quote=q2, call_id="call-b")
    assert _audit(db, "call-b") == []


def test_simultaneous_changes_one_wins(db: SessionFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two calls read the same version at the same moment; the versioned UPDATE lets one win."""
    alex = _traveler(db)
    seg_id = _segment_id(db, alex, "UA 1542")
    first, second = flights.find_alternatives(db=db, traveler_id=alex, segment_id=seg_id)[:2]
    quotes = [
        flights.quote_flight_change(db=db, traveler_id=alex, segment_id=seg_id, option_id=o.id)
        for o in (first, second)
    ]
    barrier = threading.Barrier(2, timeout=10)
    original = flights.quote_in

    def quote_then_wait(*args: object, **kwargs: object) -> object:
        out = original(*args, **kwargs)  # type: ignore[arg-type]
        barrier.wait()  # both transactions have read version N before either writes
        return out

    monkeypatch.setattr(flights, "quote_in", quote_then_wait)
    outcomes: list[str] = []

    def attempt(i: int) -> None:
        try:
            flights.change_flight(db=db, traveler_id=alex, quote=quotes[i], call_id=f"race-{i}")
            outcomes.append("won")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(20)
    assert sorted(outcomes) == ["conflict", "won"]
    final = trips.resolve_segment(db=db, traveler_id=alex, reference="SFO to JFK")
    assert final.version == quotes[0].segment_version + 1
    winners = [e for i in range(2) for e in _audit(db, f"race-{i}")]
    assert len(winners) == 1 and winners[0].after
    assert winners[0].after["flight_number"] == final.flight_number


@pytest.mark.parametrize(
    ("phone", "ref", "kind"),
    [
        (DEMO_PHONE, "UA 1542", RefundKind.CREDIT),  # main fare
        (DEMO_PHONE, "WN 2210", RefundKind.NONE),  # basic fare
        ("+13125550177", "", RefundKind.REFUND),  # refundable fare
        ("+12065550142", "", RefundKind.NONE),  # basic fare
    ],
)
def test_cancellation_rules(db: SessionFactory, phone: str, ref: str, kind: RefundKind) -> None:
    who = _traveler(db, phone)
    seg = trips.resolve_segment(db=db, traveler_id=who, reference=ref)
    quote = flights.quote_cancellation(db=db, traveler_id=who, segment_id=seg.id)
    assert quote.refund_kind is kind
    assert quote.amount_cents == (0 if kind is RefundKind.NONE else seg.fare_cents)
    done = flights.cancel_segment(db=db, traveler_id=who, quote=quote, call_id="cancel-1")
    assert done.refund_kind is kind
    with transaction(db) as s:
        row = s.get(t.FlightSegment, seg.id)
        assert row is not None and row.status is SegmentStatus.CANCELLED
    assert [e.action for e in _audit(db, "cancel-1")] == ["flight_cancelled"]


def test_booked_within_24h_is_refunded(db: SessionFactory) -> None:
    alex = _traveler(db)
    seg_id = _segment_id(db, alex, "UA 1542")
    with transaction(db) as s:
        row = s.get(t.FlightSegment, seg_id)
        assert row is not None
        row.booked_at_utc = utc_now() - timedelta(hours=2)
    quote = flights.quote_cancellation(db=db, traveler_id=alex, segment_id=seg_id)
    assert quote.refund_kind is RefundKind.REFUND and "24 hours" in quote.reason


def test_departed_flight_cannot_change(db: SessionFactory) -> None:
    alex = _traveler(db)
    seg_id = _segment_id(db, alex, "UA 1542")
    later = utc_now() + timedelta(days=30)
    with pytest.raises(InvalidRequestError, match="already departed"):
        flights.quote_cancellation(db=db, traveler_id=alex, segment_id=seg_id, now=later)


def test_an_outbound_flight_is_never_moved_past_its_return(db: SessionFactory) -> None:
    """A day after the return flight leaves is refused with why; no option is offered."""
    alex = _traveler(db)
    out = trips.resolve_segment(db=db, traveler_id=alex, reference="UA 1542")
    back = trips.resolve_segment(db=db, traveler_id=alex, reference="UA 1543")
    late = back.departure_local.date() + timedelta(days=1)
    with pytest.raises(InvalidRequestError, match="UA 1543") as caught:
        flights.find_alternatives(db=db, traveler_id=alex, segment_id=out.id, on_date=late)
    assert "earlier flight" in str(caught.value)


def test_a_return_flight_leaves_only_after_the_outbound_lands(db: SessionFactory) -> None:
    alex = _traveler(db)
    out = trips.resolve_segment(db=db, traveler_id=alex, reference="UA 1542")
    back = trips.resolve_segment(db=db, traveler_id=alex, reference="UA 1543")
    landed = out.arrival_local.replace(tzinfo=ZoneInfo(out.arrival_tz))
    left = out.departure_local.replace(tzinfo=ZoneInfo(out.departure_tz))
    day = out.departure_local.date()  # the outbound's own day: some flights back leave before
    options = flights.find_alternatives(db=db, traveler_id=alex, segment_id=back.id, on_date=day)
    assert options, "the seeded schedule has a flight back that evening"
    for opt in options:
        assert opt.departure_local.replace(tzinfo=ZoneInfo("America/New_York")) >= (
            landed + flights.MIN_CONNECTION
        )
    with transaction(db) as s:
        too_early = s.scalars(
            select(t.ScheduledFlight).where(
                t.ScheduledFlight.origin == "JFK",
                t.ScheduledFlight.destination == "SFO",
                t.ScheduledFlight.departure_utc > utc_now(),
                t.ScheduledFlight.departure_utc < left.astimezone(UTC).replace(tzinfo=None),
            )
        ).first()
    assert too_early is not None
    with pytest.raises(InvalidRequestError, match="UA 1542"):
        flights.quote_flight_change(
            db=db, traveler_id=alex, segment_id=back.id, option_id=too_early.id
        )
