"""What the hotel tools say about new dates: the year is said when it is not the stay's."""

from __future__ import annotations

from datetime import date

import pytest

from navan_voice.domain.models import CabinClass, ChangeQuote, HotelChangeQuote
from navan_voice.tools import speech

pytestmark = pytest.mark.unit


def quote(check_in: date, check_out: date) -> HotelChangeQuote:
    return HotelChangeQuote(
        stay_id=1,
        stay_version=1,
        hotel_name="Hotel Marlowe Midtown",
        old_check_in=date(2026, 12, 17),
        old_check_out=date(2026, 12, 20),
        new_check_in=check_in,
        new_check_out=check_out,
        nightly_rate_cents=32900,
        nightly_cap_cents=None,
        total_cents=98700,
        within_policy=True,
    )


def test_new_dates_in_the_stays_year_are_said_without_it() -> None:
    said = speech.hotel_read_back(quote(date(2026, 12, 18), date(2026, 12, 21)))
    assert "to December 18–December 21, 3 nights" in said
    assert "2026" not in said


def test_new_dates_a_year_on_say_their_year() -> None:
    # "December 4" said on December 7 is next year's: the read-back must not sound like this week
    q = quote(date(2027, 12, 4), date(2027, 12, 7))
    assert "to December 4, 2027 through December 7, 2027" in speech.hotel_read_back(q)
    assert speech.new_stay(q, " to ") == "December 4, 2027 to December 7, 2027"
    # a stay over new year: only the date in the other year carries it
    q = quote(date(2026, 12, 30), date(2027, 1, 2))
    assert speech.new_stay(q, " to ") == "December 30 to January 2, 2027"


@pytest.mark.parametrize(
    ("difference", "said"),
    [(-2500, "The new fare is $25 less"), (4000, "The new fare is $40 more"),
     (0, "The fare is the same")],
)  # fmt: skip
def test_a_change_read_back_says_the_fare_difference_as_words(difference: int, said: str) -> None:
    q = ChangeQuote(
        segment_id=1,
        segment_version=1,
        option_id=2,
        old_flight="UA 1542 from SFO to JFK on Thursday December 17 at 8:00 AM",
        new_flight="UA 1546 departing SFO Thursday December 17 at 9:45 PM",
        cabin=CabinClass.ECONOMY,
        fare_difference_cents=difference,
        change_fee_cents=7500,
        total_due_cents=max(difference, 0) + 7500,
        credit_cents=max(-difference, 0),
        needs_approval=False,
        approval_reason="",
    )
    text = speech.change_read_back(q)
    assert said in text and "-$" not in text, text


def test_where_an_approval_stands_is_said_in_one_sentence() -> None:
    from datetime import datetime

    from navan_voice.domain.models import Approval, ApprovalStatus, CabinClass
    from navan_voice.tools import speech

    def request(
        status: ApprovalStatus, by: str | None, left: bool = False, closed: str | None = None
    ) -> Approval:
        return Approval(
            id=1, traveler="Alex Rivera", company="Acme", booked_flight="UA 1542 on Thursday",
            requested_flight="UA 1544 on Wednesday", cabin=CabinClass.ECONOMY,
            total_due_cents=117_00, reason="", status=status, call_id="c",
            created_at_utc=datetime(2026, 12, 1, 9), decided_by=by,
            decided_at_utc=datetime(2026, 12, 2, 9) if by else None, flight_left=left,
            closed_as=closed,
        )  # fmt: skip

    assert speech.approval(request(ApprovalStatus.PENDING, None)) == (
        "Your change to UA 1544 on Wednesday is waiting for your manager's approval; you stay "
        "on UA 1542 on Thursday until then."
    )
    assert "approved by Dana on December 2" in speech.approval(
        request(ApprovalStatus.APPROVED, "Dana")
    )
    assert "not approved by Dana" in speech.approval(request(ApprovalStatus.REJECTED, "Dana"))
    assert "withdrawn" in speech.approval(request(ApprovalStatus.REJECTED, None))
    expired = "expired unanswered when that flight left; you stay on UA 1542 on Thursday"
    assert expired in speech.approval(request(ApprovalStatus.PENDING, None, left=True))
    assert "expired when that flight left" in speech.approval(
        request(ApprovalStatus.REJECTED, None, left=True, closed="expired")
    )
    # withdrawn (the booked flight cancelled), then the flight asked for left: still withdrawn
    assert "withdrawn" in speech.approval(
        request(ApprovalStatus.REJECTED, None, left=True, closed="withdrawn")
    )
