"""A manager's decisions on flight changes above the approval limit."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from navan_voice.db import tables as t
from navan_voice.db.engine import SessionFactory, transaction
from navan_voice.db.seed import DEMO_PHONE
from navan_voice.domain.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    RequestExpiredError,
)
from navan_voice.domain.models import ApprovalStatus, CabinClass, ChangeOutcome, SegmentStatus
from navan_voice.services import approvals, flights, identity, trips
from navan_voice.services.common import utc_now

pytestmark = pytest.mark.unit


def _fare(db: SessionFactory, flight_id: int, cabin: str = "economy") -> t.ScheduledFare:
    with transaction(db) as s:
        return s.scalars(
            select(t.ScheduledFare).where(
                t.ScheduledFare.flight_id == flight_id, t.ScheduledFare.cabin == cabin
            )
        ).one()


def _set_fare(db: SessionFactory, fare_id: int, cents: int) -> None:
    with transaction(db) as s:
        row = s.get(t.ScheduledFare, fare_id)
        assert row is not None
        row.fare_cents = cents


def filed(db: SessionFactory) -> tuple[int, int, int]:
    """A change of Alex's UA 1542 made dear enough to need approval, filed on call "call-a":
    (approval id, segment id, scheduled flight id)."""
    found = identity.identify_by_phone(db=db, phone=DEMO_PHONE)
    assert found is not None
    seg = trips.resolve_segment(db=db, traveler_id=found.id, reference="UA 1542")
    option = flights.find_alternatives(db=db, traveler_id=found.id, segment_id=seg.id)[1]
    _set_fare(db, _fare(db, option.id).id, seg.fare_cents + 100_000)
    quote = flights.quote_flight_change(
        db=db, traveler_id=found.id, segment_id=seg.id, option_id=option.id
    )
    result = flights.change_flight(db=db, traveler_id=found.id, quote=quote, call_id="call-a")
    assert result.outcome is ChangeOutcome.SENT_FOR_APPROVAL and result.approval_id
    return result.approval_id, seg.id, option.id


def _request(db: SessionFactory, approval_id: int) -> t.ApprovalRequest:
    with transaction(db) as s:
        row = s.get(t.ApprovalRequest, approval_id)
        assert row is not None
        return row


def _segment(db: SessionFactory, segment_id: int) -> t.FlightSegment:
    with transaction(db) as s:
        row = s.get(t.FlightSegment, segment_id)
        assert row is not None
        return row


def _audit(db: SessionFactory, action: str) -> list[t.AuditEntry]:
    with transaction(db) as s:
        return list(s.scalars(select(t.AuditEntry).where(t.AuditEntry.action == action)))


def test_a_request_keeps_the_cabin_it_was_priced_in_and_is_listed(db: SessionFactory) -> None:
    approval_id, _, _ = filed(db)
    assert _request(db, approval_id).cabin is CabinClass.ECONOMY
    [waiting] = approvals.list_approvals(db=db)
    assert waiting.id == approval_id and waiting.traveler == "Alex Rivera"
    assert waiting.booked_flight.startswith("UA 1542") and "approval limit" in waiting.reason


def test_approving_makes_the_change_asked_for(db: SessionFactory) -> None:
    approval_id, seg_id, flight_id = filed(db)
    with transaction(db) as s:
        asked = s.get(t.ScheduledFlight, flight_id)
        assert asked is not None
        asked_number, asked_departure = asked.flight_number, asked.departure_local
    seats = _fare(db, flight_id).seats_left
    result = approvals.approve(db=db, approval_id=approval_id, decided_by="Dana Manager")
    assert result.outcome is ChangeOutcome.CHANGED
    seg = _segment(db, seg_id)
    assert (seg.flight_number, seg.departure_local) == (asked_number, asked_departure)
    assert seg.cabin is CabinClass.ECONOMY and _fare(db, flight_id).seats_left == seats - 1
    row = _request(db, approval_id)
    assert row.status is ApprovalStatus.APPROVED and row.decided_by == "Dana Manager"
    [entry] = _audit(db, "flight_changed")
    assert entry.call_id == f"approval:{approval_id}"
    assert entry.after["approved_by"] == "Dana Manager"
    [decision] = _audit(db, "approval_approved")
    assert decision.after == {"status": "approved", "by": "Dana Manager", "filed_on_call": "call-a"}
    assert approvals.list_approvals(db=db) == []
    assert [a.status for a in approvals.list_approvals(db=db, status=None)] == [
        ApprovalStatus.APPROVED
    ]


def test_rejecting_keeps_the_booking(db: SessionFactory) -> None:
    approval_id, seg_id, _ = filed(db)
    before = _segment(db, seg_id)
    decided = approvals.reject(
        db=db, approval_id=approval_id, decided_by="Dana", why="too dear this quarter"
    )
    assert decided.status is ApprovalStatus.REJECTED and "too dear" in decided.reason
    after = _segment(db, seg_id)
    assert (after.flight_number, after.version) == (before.flight_number, before.version)
    [entry] = _audit(db, "approval_rejected")
    assert entry.after["by"] == "Dana" and entry.entity_id == approval_id


def test_a_request_is_decided_once(db: SessionFactory) -> None:
    approval_id, _, _ = filed(db)
    approvals.reject(db=db, approval_id=approval_id, decided_by="Dana")
    with pytest.raises(InvalidRequestError, match="already rejected by Dana"):
        approvals.approve(db=db, approval_id=approval_id, decided_by="Sam")


def test_a_change_that_got_dearer_is_not_approved_and_still_waits(db: SessionFactory) -> None:
    approval_id, seg_id, flight_id = filed(db)
    fare = _fare(db, flight_id)
    _set_fare(db, fare.id, fare.fare_cents + 5_000)
    with pytest.raises(InvalidRequestError, match="now costs"):
        approvals.approve(db=db, approval_id=approval_id, decided_by="Dana")
    assert _request(db, approval_id).status is ApprovalStatus.PENDING
    assert _segment(db, seg_id).flight_number == "UA 1542"


def test_a_request_whose_flight_left_is_closed_as_expired(db: SessionFactory) -> None:
    """Approved too late: nothing changes, and the request is closed (not left waiting for
    ever, holding up any other change of that flight)."""
    approval_id, seg_id, _ = filed(db)
    later = utc_now() + timedelta(days=40)
    with pytest.raises(RequestExpiredError, match="already left"):
        approvals.approve(db=db, approval_id=approval_id, decided_by="Dana", now=later)
    row = _request(db, approval_id)
    assert row.status is ApprovalStatus.REJECTED and row.decided_by is None
    assert "expired" in row.reason and _audit(db, "approval_expired")
    assert _segment(db, seg_id).flight_number == "UA 1542"
    [mine] = approvals.traveler_requests(db=db, traveler_id=row.traveler_id, now=later)
    assert mine.flight_left and mine.closed_as == "expired"


def test_a_change_the_segment_cannot_take_any_more_is_refused_and_still_waits(
    db: SessionFactory,
) -> None:
    """The booked flight itself left (or was cancelled): the request waits for a rejection."""
    approval_id, seg_id, _ = filed(db)
    with transaction(db) as s:
        seg = s.get(t.FlightSegment, seg_id)
        assert seg is not None
        seg.status = SegmentStatus.CANCELLED
    with pytest.raises(InvalidRequestError, match="cannot be made as asked"):
        approvals.approve(db=db, approval_id=approval_id, decided_by="Dana")
    assert _request(db, approval_id).status is ApprovalStatus.PENDING


def test_two_managers_deciding_at_once_one_wins_and_nothing_is_half_done(
    db: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dana approves while Sam rejects, between Dana's read of the request and her decision:
    Sam's rejection stands, Dana is told, and her flight change is rolled back."""
    approval_id, seg_id, _ = filed(db)
    read = approvals._waiting

    errors: list[BaseException] = []

    def sam_rejects() -> None:
        try:
            approvals.reject(db=db, approval_id=approval_id, decided_by="Sam")
        except BaseException as e:  # reported below: the test must see Sam's rejection land
            errors.append(e)

    def read_then_sam_rejects(session: object, request_id: int) -> t.ApprovalRequest:
        row = read(session, request_id)  # type: ignore[arg-type]
        if threading.current_thread() is threading.main_thread():  # Dana's read only
            sam = threading.Thread(target=sam_rejects)
            sam.start()
            sam.join()
        return row

    monkeypatch.setattr(approvals, "_waiting", read_then_sam_rejects)
    with pytest.raises(ConflictError, match="decided by someone else"):
        approvals.approve(db=db, approval_id=approval_id, decided_by="Dana")
    assert errors == []
    row = _request(db, approval_id)
    assert row.status is ApprovalStatus.REJECTED and row.decided_by == "Sam"
    assert _segment(db, seg_id).flight_number == "UA 1542"
    assert _audit(db, "flight_changed") == []


def test_unknown_request_and_nameless_decider_are_refused(db: SessionFactory) -> None:
    approval_id, _, _ = filed(db)
    with pytest.raises(NotFoundError, match="approvals list"):
        approvals.approve(db=db, approval_id=approval_id + 99, decided_by="Dana")
    with pytest.raises(InvalidRequestError, match="who decides"):
        approvals.reject(db=db, approval_id=approval_id, decided_by="  ")


def test_a_request_whose_flight_left_holds_up_no_other_change(db: SessionFactory) -> None:
    """Nobody decided before the flight asked for left: a new change of the same booked flight
    is filed, and the stale request is closed."""
    found = identity.identify_by_phone(db=db, phone=DEMO_PHONE)
    assert found is not None
    seg = trips.resolve_segment(db=db, traveler_id=found.id, reference="UA 1542")
    day_before = seg.departure_local.date() - timedelta(days=1)
    early = flights.find_alternatives(
        db=db, traveler_id=found.id, segment_id=seg.id, on_date=day_before
    )[0]
    _set_fare(db, _fare(db, early.id).id, seg.fare_cents + 100_000)
    quote = flights.quote_flight_change(
        db=db, traveler_id=found.id, segment_id=seg.id, option_id=early.id
    )
    stale = flights.change_flight(db=db, traveler_id=found.id, quote=quote, call_id="c1")
    with transaction(db) as s:
        flight = s.get(t.ScheduledFlight, early.id)
        assert flight is not None
        after_it_left = flight.departure_utc + timedelta(hours=1)
    later_day = seg.departure_local.date() + timedelta(days=1)
    other = flights.find_alternatives(
        db=db, traveler_id=found.id, segment_id=seg.id, on_date=later_day, now=after_it_left
    )[0]
    _set_fare(db, _fare(db, other.id).id, seg.fare_cents + 100_000)
    quote = flights.quote_flight_change(
        db=db, traveler_id=found.id, segment_id=seg.id, option_id=other.id, now=after_it_left
    )
    result = flights.change_flight(
        db=db, traveler_id=found.id, quote=quote, call_id="c2", now=after_it_left
    )
    assert result.outcome is ChangeOutcome.SENT_FOR_APPROVAL
    assert result.approval_id != stale.approval_id
    assert stale.approval_id is not None
    old = _request(db, stale.approval_id)
    assert old.status is ApprovalStatus.REJECTED and "(expired: " in old.reason
    assert _audit(db, "approval_expired")


def test_a_request_withdrawn_by_a_cancellation_stays_withdrawn_after_its_flight_left(
    db: SessionFactory,
) -> None:
    approval_id, seg_id, _ = filed(db)
    row = _request(db, approval_id)
    quote = flights.quote_cancellation(db=db, traveler_id=row.traveler_id, segment_id=seg_id)
    flights.cancel_segment(db=db, traveler_id=row.traveler_id, quote=quote, call_id="c3")
    later = utc_now() + timedelta(days=15)  # the flight asked for has left; still recent
    [mine] = approvals.traveler_requests(db=db, traveler_id=row.traveler_id, now=later)
    assert mine.closed_as == "withdrawn" and mine.flight_left


def test_a_decision_is_told_to_the_traveler_once(db: SessionFactory) -> None:
    approval_id, _, _ = filed(db)
    traveler_id = _request(db, approval_id).traveler_id
    told = approvals.decisions_to_tell
    assert told(db=db, traveler_id=traveler_id, call_id="c1") == []  # still waiting: no news
    approvals.approve(db=db, approval_id=approval_id, decided_by="Dana")
    [news] = told(db=db, traveler_id=traveler_id, call_id="c2")
    assert news.id == approval_id and news.status is ApprovalStatus.APPROVED
    row = _request(db, approval_id)
    assert row.told_on_call == news.told_on_call == "c2" and row.told_at_utc is not None
    assert told(db=db, traveler_id=traveler_id, call_id="c3") == []  # told already
    # and asking still answers: telling it marks nothing as gone
    [asked] = approvals.traveler_requests(db=db, traveler_id=traveler_id)
    assert asked.status is ApprovalStatus.APPROVED


def test_rejections_and_expiries_are_news_and_withdrawals_and_old_decisions_are_not(
    db: SessionFactory,
) -> None:
    approval_id, seg_id, _ = filed(db)
    traveler_id = _request(db, approval_id).traveler_id
    approvals.reject(db=db, approval_id=approval_id, decided_by="Dana")
    told = approvals.decisions_to_tell
    later = utc_now() + timedelta(days=31)
    assert told(db=db, traveler_id=traveler_id, call_id="c1", now=later) == []  # too old
    [news] = told(db=db, traveler_id=traveler_id, call_id="c1")
    assert news.status is ApprovalStatus.REJECTED and news.decided_by == "Dana"

    second, _, _ = filed(db)  # filed again, then withdrawn by the traveler's own cancellation
    quote = flights.quote_cancellation(db=db, traveler_id=traveler_id, segment_id=seg_id)
    flights.cancel_segment(db=db, traveler_id=traveler_id, quote=quote, call_id="c2")
    assert _request(db, second).status is ApprovalStatus.REJECTED
    assert told(db=db, traveler_id=traveler_id, call_id="c3") == []


def test_an_expired_request_is_news(db: SessionFactory) -> None:
    approval_id, _, _ = filed(db)
    traveler_id = _request(db, approval_id).traveler_id
    later = utc_now() + timedelta(days=20)
    with pytest.raises(RequestExpiredError):
        approvals.approve(db=db, approval_id=approval_id, decided_by="Dana", now=later)
    [news] = approvals.decisions_to_tell(db=db, traveler_id=traveler_id, call_id="c1", now=later)
    assert news.closed_as == "expired"
