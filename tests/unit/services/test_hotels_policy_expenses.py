"""Hotel dates, policy answers, expenses, support cases, dates, and a database that is down."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from navan_voice.db import tables as t
from navan_voice.db.engine import SessionFactory, make_session_factory, transaction
from navan_voice.db.seed import DEMO_PHONE
from navan_voice.db.testing import SqliteTemplate
from navan_voice.domain.errors import (
    DataUnavailableError,
    InvalidRequestError,
    NotAuthorizedError,
    NotFoundError,
    PolicyViolationError,
)
from navan_voice.domain.models import ExpenseStatus
from navan_voice.services import cases, expenses, hotels, identity, policy, trips
from navan_voice.services.common import parse_date

pytestmark = pytest.mark.unit


def _id(db: SessionFactory, phone: str = DEMO_PHONE) -> int:
    found = identity.identify_by_phone(db=db, phone=phone)
    assert found is not None
    return found.id


def test_hotel_dates_change_read_back_then_applied(db: SessionFactory) -> None:
    alex = _id(db)
    stay = trips.resolve_hotel(db=db, traveler_id=alex, reference="HTL-48213")
    new_in, new_out = stay.check_in, stay.check_out + timedelta(days=1)
    quote = hotels.quote_hotel_dates(
        db=db, traveler_id=alex, stay_id=stay.id, check_in=new_in, check_out=new_out
    )
    assert quote.total_cents == 4 * stay.nightly_rate_cents and quote.within_policy
    hotels.change_hotel_dates(db=db, traveler_id=alex, quote=quote, call_id="h-1")
    again = trips.resolve_hotel(db=db, traveler_id=alex, reference="New York")
    assert (again.check_out, again.version) == (new_out, stay.version + 1)
    with transaction(db) as s:
        [entry] = s.scalars(select(t.AuditEntry).where(t.AuditEntry.call_id == "h-1")).all()
    assert entry.before and entry.before["check_out"] == stay.check_out.isoformat()


def test_hotel_dates_in_the_past_or_backwards(db: SessionFactory) -> None:
    alex = _id(db)
    stay = trips.resolve_hotel(db=db, traveler_id=alex)
    # the day before today where the hotel is (New York): from midnight UTC until it is
    # midnight there too, the UTC "yesterday" is still today at the hotel
    yesterday = trips.booking_today(db=db, traveler_id=alex, stay_id=stay.id) - timedelta(days=1)
    with pytest.raises(InvalidRequestError, match="past"):
        hotels.quote_hotel_dates(
            db=db, traveler_id=alex, stay_id=stay.id, check_in=yesterday, check_out=stay.check_out
        )
    with pytest.raises(InvalidRequestError, match="after the check-in"):
        hotels.quote_hotel_dates(
            db=db,
            traveler_id=alex,
            stay_id=stay.id,
            check_in=stay.check_out,
            check_out=stay.check_in,
        )


def test_hotel_above_cap_is_refused(db: SessionFactory) -> None:
    alex = _id(db)
    stay = trips.resolve_hotel(db=db, traveler_id=alex)
    with transaction(db) as s:
        row = s.get(t.HotelStay, stay.id)
        assert row is not None
        row.nightly_rate_cents = 52000
    with pytest.raises(PolicyViolationError, match=r"\$350 cap for New York"):
        hotels.quote_hotel_dates(
            db=db,
            traveler_id=alex,
            stay_id=stay.id,
            check_in=stay.check_in,
            check_out=stay.check_out + timedelta(days=1),
        )
    # a night fewer adds nothing above the cap: a shorter stay is quoted
    shorter = hotels.quote_hotel_dates(
        db=db,
        traveler_id=alex,
        stay_id=stay.id,
        check_in=stay.check_in,
        check_out=stay.check_out - timedelta(days=1),
    )
    assert (shorter.new_check_out - shorter.new_check_in).days == stay.nights - 1


def test_a_stay_moved_past_its_trips_end_keeps_the_trip_upcoming(db: SessionFactory) -> None:
    alex = _id(db)
    stay = trips.resolve_hotel(db=db, traveler_id=alex)
    trip = next(
        tr for tr in trips.list_upcoming_trips(db=db, traveler_id=alex) if stay in tr.hotels
    )
    later = trip.end_date + timedelta(days=3)
    quote = hotels.quote_hotel_dates(
        db=db, traveler_id=alex, stay_id=stay.id, check_in=stay.check_in, check_out=later
    )
    hotels.change_hotel_dates(db=db, traveler_id=alex, quote=quote, call_id="call-h")
    moved = next(
        tr
        for tr in trips.list_upcoming_trips(db=db, traveler_id=alex)
        if tr.confirmation_code == trip.confirmation_code
    )
    assert moved.end_date == later


def test_a_guest_already_in_the_hotel_can_add_a_night(db: SessionFactory) -> None:
    """On the second night, check-in stays as booked (in the past) and one night is added."""
    alex = _id(db)
    stay = trips.resolve_hotel(db=db, traveler_id=alex)
    second_night = stay.check_in + timedelta(days=1)
    quote = hotels.quote_hotel_dates(
        db=db,
        traveler_id=alex,
        stay_id=stay.id,
        check_in=stay.check_in,
        check_out=stay.check_out + timedelta(days=1),
        today=second_night,
    )
    assert quote.new_check_in == stay.check_in
    assert (quote.new_check_out - quote.new_check_in).days == stay.nights + 1
    # moving the check-in itself into the past is still refused
    with pytest.raises(InvalidRequestError, match="in the past"):
        hotels.quote_hotel_dates(
            db=db,
            traveler_id=alex,
            stay_id=stay.id,
            check_in=stay.check_in - timedelta(days=1),
            check_out=stay.check_out,
            today=second_night,
        )
    # and the caller's words for the booked check-in mean that date, not next year's
    said = parse_date(f"{stay.check_in:%B %-d}", today=second_night, earliest=stay.check_in)
    assert said == stay.check_in


def test_another_travelers_hotel_is_refused(db: SessionFactory) -> None:
    alex, priya = _id(db), _id(db, "+14155550188")
    stay = trips.resolve_hotel(db=db, traveler_id=priya)
    with pytest.raises(NotAuthorizedError):
        hotels.quote_hotel_dates(
            db=db,
            traveler_id=alex,
            stay_id=stay.id,
            check_in=stay.check_in,
            check_out=stay.check_out,
        )


def test_car_rentals(db: SessionFactory) -> None:
    [car] = hotels.list_car_rentals(db=db, traveler_id=_id(db))
    assert car.vendor == "Hertz"


def test_policy_answers_come_from_rules(db: SessionFactory) -> None:
    alex = _id(db)
    summary = policy.get_policy(db=db, traveler_id=alex)
    text = policy.answer_policy_question(
        db=db, traveler_id=alex, topic="cabin", origin="SFO", destination="LHR"
    )
    assert summary.allowed_cabin(630).value == "business" and "allows business" in text
    hotel = policy.answer_policy_question(db=db, traveler_id=alex, topic="hotel", city="New York")
    assert "$350" in hotel
    approval = policy.answer_policy_question(db=db, traveler_id=alex, topic="approval")
    assert "$400" in approval


def test_cabin_rules_on_a_leap_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the schedule is searched a year either side of now: Feb 29 has no date a year off
    leap_day = datetime(2028, 2, 29, 12, 0)
    db = make_session_factory(SqliteTemplate(tmp_path, today=leap_day.date()).fresh())
    alex = _id(db)
    monkeypatch.setattr(policy, "utc_now", lambda: leap_day)
    text = policy.answer_policy_question(
        db=db, traveler_id=alex, topic="cabin", origin="SFO", destination="LHR"
    )
    assert "allows business" in text


def test_policy_topic_from_question(db: SessionFactory) -> None:
    assert policy.topic_for_question("Can I fly business class to London?") == "cabin"
    assert policy.topic_for_question("what's the hotel limit in Boston") == "hotel"
    assert policy.topic_for_question("how far ahead must I book") == "advance_booking"


def test_unknown_policy_topic(db: SessionFactory) -> None:
    with pytest.raises(InvalidRequestError):
        policy.answer_policy_question(db=db, traveler_id=_id(db), topic="pets")


def test_expense_status(db: SessionFactory) -> None:
    alex = _id(db)
    [uber] = expenses.expense_status(db=db, traveler_id=alex, merchant="uber")
    assert uber.status is ExpenseStatus.NEEDS_RECEIPT
    assert len(expenses.expense_status(db=db, traveler_id=alex)) == 4
    with pytest.raises(NotFoundError):
        expenses.expense_status(db=db, traveler_id=alex, merchant="Lufthansa")


def test_open_case(db: SessionFactory) -> None:
    case = cases.open_case(
        db=db,
        traveler_id=None,
        call_id="c-1",
        summary="Caller could not be identified; wants a refund.",
    )
    assert case.reference.startswith("CS-") and case.traveler_id is None
    with pytest.raises(InvalidRequestError):
        cases.open_case(db=db, traveler_id=None, call_id="c-1", summary="help")


@pytest.mark.parametrize(
    "url", ["sqlite:////proc/no-such-dir/navan.db", "postgresql://postgres@127.0.0.1:1/navan"]
)
def test_database_down_is_data_unavailable(url: str) -> None:
    broken = make_session_factory(url)
    with pytest.raises(DataUnavailableError, match="not answering"):
        identity.identify_by_phone(db=broken, phone=DEMO_PHONE)
    with pytest.raises(DataUnavailableError):
        cases.open_case(db=broken, traveler_id=None, call_id="x", summary="Caller needs a refund.")


TODAY = date(2026, 5, 4)  # a Monday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-20", date(2026, 5, 20)),
        ("May 20", date(2026, 5, 20)),
        ("20th of May", None),
        ("the 20 May", None),
        ("20 May 2026", date(2026, 5, 20)),
        ("5/20", date(2026, 5, 20)),
        ("tomorrow", date(2026, 5, 5)),
        ("Friday", date(2026, 5, 8)),
        ("next Monday", date(2026, 5, 11)),
        ("March 3", date(2027, 3, 3)),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    if expected is None:
        with pytest.raises(InvalidRequestError, match="could not understand"):
            parse_date(text, today=TODAY)
    else:
        assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize("text", ["2026-05-01", "2020-01-01", "yesterday", "blursday", "13/45"])
def test_parse_date_refuses_past_and_nonsense(text: str) -> None:
    with pytest.raises(InvalidRequestError):
        parse_date(text, today=TODAY)
