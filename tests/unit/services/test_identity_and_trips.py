"""Identifying callers and reading their trips."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from navan_voice.db.engine import SessionFactory
from navan_voice.db.seed import DEMO_CONFIRMATION, DEMO_LAST_NAME, DEMO_PHONE
from navan_voice.domain.errors import (
    AmbiguousRequestError,
    CallerNotIdentifiedError,
    InvalidRequestError,
    NotAuthorizedError,
    NotFoundError,
)
from navan_voice.services import identity, trips

pytestmark = pytest.mark.unit


def _alex(db: SessionFactory) -> int:
    found = identity.identify_by_phone(db=db, phone=DEMO_PHONE)
    assert found is not None
    return found.id


@pytest.mark.parametrize("raw", [DEMO_PHONE, "sip:+14155550123@pstn.example", "(415) 555-0123"])
def test_identify_by_phone_in_any_form(db: SessionFactory, raw: str) -> None:
    found = identity.identify_by_phone(db=db, phone=raw)
    assert found is not None
    assert (found.first_name, found.last_name, found.company_name) == (
        "Alex",
        "Rivera",
        "Acme Robotics",
    )


def test_unknown_phone_is_none(db: SessionFactory) -> None:
    assert identity.identify_by_phone(db=db, phone="+19999999999") is None
    assert identity.identify_by_phone(db=db, phone="anonymous") is None


def test_identify_by_code_and_last_name(db: SessionFactory) -> None:
    found = identity.identify_by_confirmation(
        db=db, confirmation_code="nvn-7q2", last_name=DEMO_LAST_NAME.upper()
    )
    assert found.id == _alex(db)


@pytest.mark.parametrize("said", ["Rivéra", "rivera.", " RIVERA ", "Ri-vera"])
def test_a_last_name_matches_whatever_its_accents_case_or_punctuation(
    db: SessionFactory, said: str
) -> None:
    # a transcript writes "Rivera." and a caller may spell it with an accent
    found = identity.identify_by_confirmation(
        db=db, confirmation_code=DEMO_CONFIRMATION, last_name=said
    )
    assert found.id == _alex(db)


@pytest.mark.parametrize(("code", "name"), [("NVZZZZ", "Rivera"), (DEMO_CONFIRMATION, "Shah")])
def test_wrong_code_or_name_is_refused_alike(db: SessionFactory, code: str, name: str) -> None:
    with pytest.raises(CallerNotIdentifiedError, match="could not find a booking"):
        identity.identify_by_confirmation(db=db, confirmation_code=code, last_name=name)


def test_malformed_code_is_invalid(db: SessionFactory) -> None:
    with pytest.raises(InvalidRequestError, match="six letters"):
        identity.identify_by_confirmation(db=db, confirmation_code="12", last_name="Rivera")


def test_upcoming_trips_exclude_the_past(db: SessionFactory) -> None:
    upcoming = trips.list_upcoming_trips(db=db, traveler_id=_alex(db))
    codes = [t.confirmation_code for t in upcoming]
    assert codes == [DEMO_CONFIRMATION, "NVK4M8"]
    assert len(upcoming[0].segments) == 2 and len(upcoming[0].hotels) == 1


def test_unidentified_caller_cannot_list(db: SessionFactory) -> None:
    with pytest.raises(CallerNotIdentifiedError):
        trips.list_upcoming_trips(db=db, traveler_id=None)


def test_my_flight_is_ambiguous_with_three(db: SessionFactory) -> None:
    with pytest.raises(AmbiguousRequestError, match="3 upcoming flights") as err:
        trips.resolve_segment(db=db, traveler_id=_alex(db), reference="")
    assert "UA 1542" in str(err.value) and "WN 2210" in str(err.value)


@pytest.mark.parametrize("reference", ["UA 1542", "ua1542", "SFO to JFK"])
def test_resolve_one_flight(db: SessionFactory, reference: str) -> None:
    seg = trips.resolve_segment(db=db, traveler_id=_alex(db), reference=reference)
    assert (seg.flight_number, seg.origin, seg.destination) == ("UA 1542", "SFO", "JFK")


def test_trip_code_with_two_flights_is_ambiguous(db: SessionFactory) -> None:
    with pytest.raises(AmbiguousRequestError):
        trips.resolve_segment(db=db, traveler_id=_alex(db), reference=DEMO_CONFIRMATION)


def test_another_travelers_trip_is_refused(db: SessionFactory) -> None:
    with pytest.raises(NotAuthorizedError, match="not under your name"):
        trips.get_trip(db=db, traveler_id=_alex(db), confirmation_code="NVB2R7")
    with pytest.raises(NotAuthorizedError):
        trips.resolve_segment(db=db, traveler_id=_alex(db), reference="NVB2R7")


def test_unknown_trip_code(db: SessionFactory) -> None:
    with pytest.raises(NotFoundError):
        trips.get_trip(db=db, traveler_id=_alex(db), confirmation_code="NVXXXX")


def test_resolve_hotel_by_city(db: SessionFactory) -> None:
    stay = trips.resolve_hotel(db=db, traveler_id=_alex(db), reference="new york")
    assert stay.hotel_name == "Hotel Marlowe Midtown" and stay.nights == 3


@pytest.mark.parametrize(
    ("reference", "flight"),
    [
        ("to JFK", "UA 1542"),
        ("from JFK", "UA 1543"),
        ("into DEN", "WN 2210"),
        ("to SFO", "UA 1543"),
    ],
)
def test_a_direction_picks_the_flight_arriving_or_leaving(
    db: SessionFactory, reference: str, flight: str
) -> None:
    # "JFK" alone is either end of two flights; "to JFK" is the one landing there
    seg = trips.resolve_segment(db=db, traveler_id=_alex(db), reference=reference)
    assert seg.flight_number == flight


def test_an_airport_alone_still_asks_which_flight(db: SessionFactory) -> None:
    with pytest.raises(AmbiguousRequestError, match="2 upcoming flights"):
        trips.resolve_segment(db=db, traveler_id=_alex(db), reference="JFK")


def test_upcoming_bookings_of_one_trip(db: SessionFactory) -> None:
    alex = _alex(db)
    segs = trips.upcoming_segments(db=db, traveler_id=alex, trip_code=DEMO_CONFIRMATION)
    assert [s.flight_number for s in segs] == ["UA 1542", "UA 1543"]
    stays = trips.upcoming_hotels(db=db, traveler_id=alex, trip_code="NVK4M8")
    assert stays == []
    (stay,) = trips.upcoming_hotels(db=db, traveler_id=alex, reference="New York")
    assert trips.trip_code(db=db, traveler_id=alex, trip_id=stay.trip_id) == DEMO_CONFIRMATION
    assert trips.get_segment(db=db, traveler_id=alex, segment_id=segs[0].id) == segs[0]


def _one_way_red_eye(db: SessionFactory, traveler_id: int) -> tuple[str, date]:
    """A one-day trip: UA 1546 SFO -> JFK at 9:45 pm San Francisco time, three days on."""
    from navan_voice.db import tables as t
    from navan_voice.db.engine import transaction
    from navan_voice.db.seed import _segment
    from navan_voice.services.common import utc_now

    today = utc_now().date()
    day = today + timedelta(days=3)
    with transaction(db) as s:
        trip = t.Trip(
            traveler_id=traveler_id,
            name="One-way",
            confirmation_code="NVZ1Z1",
            start_date=day,
            end_date=day,
        )
        trip.segments = [_segment(today, "SFO", "JFK", 3, 2)]
        s.add(trip)
    return trip.segments[0].flight_number, day


def test_an_evening_flight_on_a_trips_last_day_is_still_upcoming(db: SessionFactory) -> None:
    """At 5:30 pm in San Francisco it is already the next day in UTC; the trip ends today
    there, and its 9:45 pm flight has not left."""
    from navan_voice.db.schedule import local_to_utc

    alex = _alex(db)
    flight, day = _one_way_red_eye(db, alex)
    now = local_to_utc(datetime.combine(day, time(17, 30)), "America/Los_Angeles")
    assert now.date() > day  # the UTC day has moved on
    found = trips.resolve_segment(db=db, traveler_id=alex, reference=flight, now=now)
    assert found.flight_number == flight
    # at 9:30 pm it is tomorrow where the trip ends (New York) too: the flight is still to go
    late = local_to_utc(datetime.combine(day, time(21, 30)), "America/Los_Angeles")
    assert trips.resolve_segment(db=db, traveler_id=alex, reference=flight, now=late)
    assert "NVZ1Z1" in [t.confirmation_code for t in trips.list_upcoming_trips(
        db=db, traveler_id=alex, now=now)]  # fmt: skip
    # once it has left, the trip is over
    later = local_to_utc(datetime.combine(day + timedelta(days=1), time(9, 0)), "America/New_York")
    with pytest.raises(NotFoundError):
        trips.resolve_segment(db=db, traveler_id=alex, reference=flight, now=later)


def test_a_callers_today_is_the_day_where_the_flight_leaves(db: SessionFactory) -> None:
    from navan_voice.db.schedule import local_to_utc
    from navan_voice.services.common import parse_date

    alex = _alex(db)
    flight, day = _one_way_red_eye(db, alex)
    seg = trips.resolve_segment(db=db, traveler_id=alex, reference=flight)
    evening = local_to_utc(datetime.combine(day, time(18, 30)), "America/Los_Angeles")
    today = trips.booking_today(db=db, traveler_id=alex, segment_id=seg.id, now=evening)
    assert today == day and evening.date() == day + timedelta(days=1)
    assert parse_date("today", today=today) == day
    assert parse_date("tomorrow", today=today) == day + timedelta(days=1)
    assert parse_date(f"{day:%B %-d}", today=today) == day  # not next year's


def test_the_return_and_outbound_legs_of_a_trip(db: SessionFactory) -> None:
    alex = _alex(db)
    back = trips.resolve_segment(db=db, traveler_id=alex, reference="return", trip_code="NVN7Q2")
    out = trips.resolve_segment(db=db, traveler_id=alex, reference="outbound", trip_code="NVN7Q2")
    assert (out.origin, out.destination) == (back.destination, back.origin)
    assert out.departure_local < back.departure_local


def test_a_trip_of_hotels_only_counts_its_days_where_the_hotel_is(db: SessionFactory) -> None:
    """A stay in Tokyo ending today: at 8 am Tokyo time it is still yesterday in UTC (and
    further west), so the trip is on, and "tomorrow" is Tokyo's tomorrow."""
    from navan_voice.db import tables as t
    from navan_voice.db.engine import transaction
    from navan_voice.db.schedule import local_to_utc
    from navan_voice.domain.models import BookingStatus

    alex = _alex(db)
    day = date.today() + timedelta(days=5)  # Tokyo's today in the scenario below
    with transaction(db) as s:
        trip = t.Trip(traveler_id=alex, name="Tokyo", confirmation_code="NVT0K1",
                      start_date=day - timedelta(days=2), end_date=day)  # fmt: skip
        trip.hotels = [
            t.HotelStay(
                confirmation_code="TK-1",
                hotel_name="Hotel Gracery",
                city="Tokyo",
                check_in=day - timedelta(days=2),
                check_out=day,
                nightly_rate_cents=20000,
                status=BookingStatus.CONFIRMED,
                version=1,
            )
        ]
        s.add(trip)
        s.flush()
        stay_id = trip.hotels[0].id
    morning = local_to_utc(datetime.combine(day, time(8, 0)), "Asia/Tokyo")
    assert morning.date() == day - timedelta(days=1)  # UTC is still on yesterday
    assert trips.booking_today(db=db, traveler_id=alex, stay_id=stay_id, now=morning) == day
    # the evening after check-out, Tokyo's day is over while the far west's is not
    night = local_to_utc(datetime.combine(day + timedelta(days=1), time(1, 0)), "Asia/Tokyo")
    codes = [x.confirmation_code for x in trips.list_upcoming_trips(db=db, traveler_id=alex,
                                                                     now=night)]  # fmt: skip
    assert "NVT0K1" not in codes
