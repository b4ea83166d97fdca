"""Reading a caller's trips, and turning "my flight" into exactly one segment (or a question)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from navan_voice.db import repositories as repo
from navan_voice.db.engine import SessionFactory, transaction
from navan_voice.domain.errors import AmbiguousRequestError, NotFoundError
from navan_voice.domain.models import (
    BookingStatus,
    FlightSegment,
    HotelStay,
    SegmentStatus,
    Trip,
)
from navan_voice.services.common import (
    EARLIEST_TZ,
    city_zone,
    local_date,
    own_hotel,
    own_segment,
    raise_not_yours,
    require_traveler,
    utc_now,
)


def list_upcoming_trips(
    *,
    db: SessionFactory,
    traveler_id: int | None,
    today: date | None = None,
    now: datetime | None = None,
) -> list[Trip]:
    """The caller's trips that have not ended yet, soonest first: ending ``today`` or later
    when given, else on or after the day it is now where each trip ends (``trip_today``)."""
    moment = now or utc_now()
    # the day it is now anywhere: a trip ending before it has ended everywhere
    day = today or local_date(moment, EARLIEST_TZ)
    with transaction(db) as session:
        require_traveler(session, traveler_id)
        assert traveler_id is not None
        trips = [repo.to_trip(row) for row in repo.trips_ending_after(session, traveler_id, day)]
    if today is not None:
        return trips
    return [
        trip
        for trip in trips
        if trip.end_date >= trip_today(trip, moment)
        or any(departure_utc(seg) > moment for seg in trip.segments)  # a red-eye still to go
    ]


def trip_today(trip: Trip, now: datetime) -> date:
    """The day it is at ``now`` (naive UTC) where ``trip`` ends: its last flight's arrival
    (a trip ending tonight in San Francisco is still on at 6 pm there, when it is tomorrow in
    UTC). A trip with no flights: where its last hotel is, else wherever on earth it still
    is that day."""
    if not trip.segments:
        zones = _hotel_zones(trip)
        return local_date(now, zones[-1] if zones else EARLIEST_TZ)
    last = max(trip.segments, key=departure_utc)
    return local_date(now, last.arrival_tz)


def _hotel_zones(trip: Trip) -> list[str]:
    """The known time zones of the trip's hotel cities, in the order of the stays."""
    return [z for h in trip.hotels if (z := city_zone(h.city)) is not None]


def booking_zone(
    *,
    db: SessionFactory,
    traveler_id: int | None,
    segment_id: int | None = None,
    stay_id: int | None = None,
    trip_code: str | None = None,
) -> str | None:
    """The time zone a caller's "today", "tomorrow" or "Friday" counts in for the booking
    discussed: a flight's departure airport; a hotel stay's city (its trip's first arrival, or
    the city's own zone on a trip without flights); for a trip named but no booking in it yet,
    where its first flight leaves (else its first hotel's city). None for none of them."""
    with transaction(db) as session:
        if segment_id is not None:
            return own_segment(session, traveler_id, segment_id).departure_tz
        if stay_id is not None:
            stay = own_hotel(session, traveler_id, stay_id)
            row = repo.trip_by_id(session, stay.trip_id)
            trip = repo.to_trip(row) if row is not None else None
            if trip is not None and trip.segments:
                return min(trip.segments, key=departure_utc).arrival_tz
            return city_zone(stay.city)  # a trip of hotels only
        if trip_code is not None:
            row = repo.trip_by_code(session, trip_code)
            if row is None or row.traveler_id != traveler_id:
                return None  # not theirs: nothing to count in
            trip = repo.to_trip(row)
            if trip.segments:
                return min(trip.segments, key=departure_utc).departure_tz
            return next(iter(_hotel_zones(trip)), None)
    return None


def booking_today(
    *,
    db: SessionFactory,
    traveler_id: int | None,
    segment_id: int | None = None,
    stay_id: int | None = None,
    now: datetime | None = None,
) -> date:
    """The day it is now where a booking is (``booking_zone``), the day a caller's "today",
    "tomorrow" or "Friday" counts from; UTC for none."""
    zone = booking_zone(db=db, traveler_id=traveler_id, segment_id=segment_id, stay_id=stay_id)
    return local_date(now or utc_now(), zone or "UTC")


def get_trip(*, db: SessionFactory, traveler_id: int | None, confirmation_code: str) -> Trip:
    """One trip by its confirmation code; another traveler's trip is refused."""
    code = re.sub(r"[^A-Za-z0-9]", "", confirmation_code).upper()
    with transaction(db) as session:
        require_traveler(session, traveler_id)
        row = repo.trip_by_code(session, code)
        if row is None:
            raise NotFoundError(
                f"I could not find a trip with confirmation code {' '.join(code)}; please "
                "check it on your itinerary email."
            )
        if row.traveler_id != traveler_id:
            raise_not_yours()
        return repo.to_trip(row)


def trip_code(*, db: SessionFactory, traveler_id: int | None, trip_id: int) -> str:
    """The confirmation code of one of the caller's trips."""
    with transaction(db) as session:
        require_traveler(session, traveler_id)
        row = repo.trip_by_id(session, trip_id)
        if row is None or row.traveler_id != traveler_id:
            raise NotFoundError("I could not find that trip on your bookings.")
        return row.confirmation_code


def departure_utc(segment: FlightSegment) -> datetime:
    """The segment's departure as naive UTC (its local time is in ``departure_tz``)."""
    local = segment.departure_local.replace(tzinfo=ZoneInfo(segment.departure_tz))
    return local.astimezone(UTC).replace(tzinfo=None)


def _norm(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


# words of a route reference that look like airport codes ("SFO TO JFK", "OUT OF JFK")
_NOT_AIRPORTS = {"OUT", "AND", "THE", "FOR"}


# "my return flight", "the flight back": the trip's last leg; "outbound", "the way there": its first
_LEGS = {"RETURN": -1, "OUTBOUND": 0}


def _matches(segment: FlightSegment, trip: Trip, reference: str) -> bool:
    ref = _norm(reference)
    if not ref:
        return True
    if ref in _LEGS:
        legs = sorted(trip.segments, key=departure_utc)
        return len(legs) >= 2 and legs[_LEGS[ref]] == segment
    if ref in (_norm(segment.flight_number), _norm(trip.confirmation_code)):
        return True
    digits = re.sub(r"\D", "", segment.flight_number)
    if ref == digits:
        return True
    upper = reference.upper()
    # "to JFK" / "into JFK" / "arriving JFK": the flight landing there; "from JFK": leaving it
    arriving = re.fullmatch(r"\s*(?:TO|INTO|ARRIVING(?: AT| IN)?)\s+([A-Z]{3})\s*", upper)
    if arriving:
        return segment.destination == arriving.group(1)
    leaving = re.fullmatch(r"\s*(?:FROM|OUT OF|LEAVING)\s+([A-Z]{3})\s*", upper)
    if leaving:
        return segment.origin == leaving.group(1)
    airports = [a for a in re.findall(r"\b[A-Z]{3}\b", upper) if a not in _NOT_AIRPORTS]
    known = [a for a in airports if a in (segment.origin, segment.destination)]
    if airports and len(known) == len(airports):
        # "SFO to JFK": both given in that order; "JFK": either end
        return len(airports) == 1 or (segment.origin, segment.destination) == tuple(airports[:2])
    return False


def get_segment(*, db: SessionFactory, traveler_id: int | None, segment_id: int) -> FlightSegment:
    """One of the caller's flight segments by id; anyone else's is refused."""
    with transaction(db) as session:
        return repo.to_segment(own_segment(session, traveler_id, segment_id))


def upcoming_segments(
    *,
    db: SessionFactory,
    traveler_id: int | None,
    reference: str = "",
    trip_code: str | None = None,
    now: datetime | None = None,
) -> list[FlightSegment]:
    """The caller's confirmed flights not yet departed that ``reference`` names (see
    ``resolve_segment``; empty for all), on trip ``trip_code`` when given, soonest first."""
    moment = now or utc_now()
    trips = list_upcoming_trips(db=db, traveler_id=traveler_id, now=moment)
    code = _norm(trip_code or "")
    return [
        seg
        for trip in trips
        if not code or _norm(trip.confirmation_code) == code
        for seg in trip.segments
        if seg.status is SegmentStatus.CONFIRMED
        and departure_utc(seg) > moment
        and _matches(seg, trip, reference)
    ]


def resolve_segment(
    *,
    db: SessionFactory,
    traveler_id: int | None,
    reference: str = "",
    trip_code: str | None = None,
    now: datetime | None = None,
) -> FlightSegment:
    """The one upcoming flight ``reference`` points at, among the caller's own.

    ``reference`` may be a flight number ("UA 1542", "1542"), a trip confirmation code, a route
    ("SFO to JFK"), a direction ("to JFK": the flight arriving there; "from JFK": the one
    leaving it), an airport (either end), "return" or "outbound" (a leg of a trip: of
    ``trip_code``, the trip being discussed, when the caller has several), or empty for "my
    flight". Several matches raise ``AmbiguousRequestError`` naming them, so the agent can ask
    which one.
    """
    moment = now or utc_now()
    code = _norm(reference)
    if len(code) == 6 and not code.isdigit():
        # a confirmation code: refuse someone else's before searching our own
        with transaction(db) as session:
            require_traveler(session, traveler_id)
            trip_row = repo.trip_by_code(session, code)
            if trip_row is not None and trip_row.traveler_id != traveler_id:
                raise_not_yours()
    candidates = upcoming_segments(db=db, traveler_id=traveler_id, reference=reference, now=moment)
    if len(candidates) > 1 and code in _LEGS and trip_code:
        on_trip = [s for s in candidates if _norm(s.confirmation_code) == _norm(trip_code)]
        candidates = on_trip or candidates
    if not candidates:
        what = f" matching {reference!r}" if reference.strip() else ""
        raise NotFoundError(
            f"I could not find an upcoming flight{what} on your bookings; you can tell me the "
            "flight number or the confirmation code."
        )
    if len(candidates) > 1:
        options = "; ".join(s.label for s in candidates)
        raise AmbiguousRequestError(
            f"You have {len(candidates)} upcoming flights: {options}. Which one do you mean?"
        )
    return candidates[0]


def upcoming_hotels(
    *,
    db: SessionFactory,
    traveler_id: int | None,
    reference: str = "",
    trip_code: str | None = None,
    today: date | None = None,
) -> list[HotelStay]:
    """The caller's confirmed upcoming hotel stays that ``reference`` (hotel code, trip code,
    hotel name or city; empty for all) names, on trip ``trip_code`` when given, soonest first."""
    trips = list_upcoming_trips(db=db, traveler_id=traveler_id, today=today)
    ref = _norm(reference)
    code = _norm(trip_code or "")
    return [
        stay
        for trip in trips
        if not code or _norm(trip.confirmation_code) == code
        for stay in trip.hotels
        if stay.status is BookingStatus.CONFIRMED
        and (
            not ref
            or ref in (_norm(stay.confirmation_code), _norm(trip.confirmation_code))
            or ref in _norm(stay.hotel_name)
            or ref == _norm(stay.city)
        )
    ]


def resolve_hotel(
    *, db: SessionFactory, traveler_id: int | None, reference: str = "", today: date | None = None
) -> HotelStay:
    """The one upcoming hotel stay ``reference`` (hotel code, trip code, hotel or city) names."""
    candidates = upcoming_hotels(db=db, traveler_id=traveler_id, reference=reference, today=today)
    if not candidates:
        raise NotFoundError(
            "I could not find an upcoming hotel stay like that on your bookings; you can give "
            "me the hotel's confirmation code or the city."
        )
    if len(candidates) > 1:
        names = "; ".join(
            f"{s.hotel_name} in {s.city} from {s.check_in:%B %-d}" for s in candidates
        )
        raise AmbiguousRequestError(f"You have several hotel stays: {names}. Which one?")
    return candidates[0]
