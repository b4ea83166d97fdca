"""Hotel stays (date changes, read back first) and car rentals."""

from __future__ import annotations

from datetime import date, datetime

from navan_voice.db import repositories as repo
from navan_voice.db.engine import SessionFactory, transaction
from navan_voice.domain.errors import ConflictError, InvalidRequestError, PolicyViolationError
from navan_voice.domain.models import BookingStatus, CarRental, HotelChangeQuote, format_money
from navan_voice.services.common import (
    audit,
    cover_in_trip,
    own_hotel,
    require_traveler,
    snapshot,
    utc_now,
)

MAX_NIGHTS = 30
STAY_FIELDS = ("check_in", "check_out", "nightly_rate_cents", "status", "version")


def quote_hotel_dates(
    *,
    db: SessionFactory,
    traveler_id: int | None,
    stay_id: int,
    check_in: date,
    check_out: date,
    today: date | None = None,
) -> HotelChangeQuote:
    """Price new dates for a stay at its booked nightly rate, against the city's cap. A stay
    already begun keeps its check-in date (a guest adding a night); ``today``: the day it is
    where the hotel is (``trips.booking_today``) unless given."""
    from navan_voice.services.trips import booking_today

    day = today or booking_today(db=db, traveler_id=traveler_id, stay_id=stay_id)
    if check_out <= check_in:
        raise InvalidRequestError("The check-out date has to be after the check-in date.")
    nights = (check_out - check_in).days
    if nights > MAX_NIGHTS:
        raise InvalidRequestError(
            f"That is {nights} nights; stays longer than {MAX_NIGHTS} nights need a colleague "
            "to arrange a long-stay rate."
        )
    with transaction(db) as session:
        stay = own_hotel(session, traveler_id, stay_id)
        if stay.status is not BookingStatus.CONFIRMED:
            raise InvalidRequestError("That hotel booking is cancelled.")
        if check_in < day and check_in != stay.check_in:
            raise InvalidRequestError(
                f"{check_in:%B %-d} is in the past; the new check-in must be today or later."
            )
        if check_out < day:
            raise InvalidRequestError(
                f"{check_out:%B %-d} is in the past; the check-out must be today or later."
            )
        traveler = require_traveler(session, traveler_id)
        company = repo.company_with_policy(session, traveler.company_id)
        cap = repo.to_policy(company).hotel_cap(stay.city) if company else None
        within = cap is None or stay.nightly_rate_cents <= cap
        # a stay above the cap may still be shortened: only nights it did not have are refused
        adds_nights = check_in < stay.check_in or check_out > stay.check_out
        if not within and adds_nights:
            raise PolicyViolationError(
                f"The rate of {format_money(stay.nightly_rate_cents)} a night is above the "
                f"{format_money(cap or 0)} cap for {stay.city}, so I cannot extend this stay; "
                "a colleague can look for a hotel within policy."
            )
        return HotelChangeQuote(
            stay_id=stay.id,
            stay_version=stay.version,
            hotel_name=stay.hotel_name,
            old_check_in=stay.check_in,
            old_check_out=stay.check_out,
            new_check_in=check_in,
            new_check_out=check_out,
            nightly_rate_cents=stay.nightly_rate_cents,
            nightly_cap_cents=cap,
            total_cents=nights * stay.nightly_rate_cents,
            within_policy=within,
        )


def change_hotel_dates(
    *,
    db: SessionFactory,
    traveler_id: int | None,
    quote: HotelChangeQuote,
    call_id: str,
    now: datetime | None = None,
) -> HotelChangeQuote:
    """Move a stay to the quoted dates; refuses if the booking changed since the read-back."""
    moment = now or utc_now()
    with transaction(db) as session:
        stay = own_hotel(session, traveler_id, quote.stay_id)
        if stay.version != quote.stay_version:
            raise ConflictError(
                "This hotel booking changed after I read the new dates back to you, so I did "
                "not apply them. Let me check the booking again."
            )
        before = snapshot(stay, *STAY_FIELDS)
        stay.check_in = quote.new_check_in
        stay.check_out = quote.new_check_out
        trip = repo.trip_by_id(session, stay.trip_id)
        if trip is not None:
            cover_in_trip(trip, stay.check_in, stay.check_out)
        session.flush()
        audit(
            session,
            traveler_id=traveler_id,
            call_id=call_id,
            action="hotel_dates_changed",
            entity="hotel_stay",
            entity_id=stay.id,
            before=before,
            after=snapshot(stay, *STAY_FIELDS),
            now=moment,
        )
        return quote


def list_car_rentals(
    *, db: SessionFactory, traveler_id: int | None, today: date | None = None
) -> list[CarRental]:
    """The caller's upcoming car rentals."""
    from navan_voice.services.trips import list_upcoming_trips

    trips = list_upcoming_trips(db=db, traveler_id=traveler_id, today=today)
    return [car for trip in trips for car in trip.cars if car.status is BookingStatus.CONFIRMED]
