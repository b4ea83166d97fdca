"""Demo data, relative to "today", so a demo call always has upcoming trips and real options.

``seed_database(url)`` upgrades the schema and inserts the data once (idempotent: a database that
already holds the demo companies is left alone; ``reset=True`` wipes and re-seeds).

Companies and their travel policies
  * Acme Robotics: economy under 6 h, premium economy from 6 h, business from 10 h; hotel caps
    New York $350, San Francisco $300, London $400 (others $250); book 7 days ahead; changes
    costing more than $400 need manager approval.
  * Globex Health: economy under 8 h, premium economy from 8 h; caps Boston $280 (others $220);
    book 14 days ahead; approval above $250.
  * Initech: economy only; cap $200 everywhere; book 3 days ahead; approval above $600.

Travelers (phone numbers E.164) and trips (trip confirmation codes; day offsets from today)
  * **Alex Rivera** (Acme), +14155550123, the well-known demo caller:
      - NVN7Q2 "New York customer visit": UA 1542 SFO→JFK day +10 08:00 (economy, main fare,
        $389), UA 1543 JFK→SFO day +13 17:30 ($412); Hotel Marlowe Midtown, New York,
        nights +10…+13 at $329 (hotel code HTL-48213); Hertz car at JFK.
      - NVK4M8 "Denver offsite": WN 2210 AUS→DEN day +20 07:15 (basic fare, $149).
        So "my flight" is ambiguous for Alex: three upcoming flights.
      - NVP3X1 (past): ORD trip 30 days ago. Expenses: approved, submitted, needs a receipt.
  * **Priya Shah** (Acme), +14155550188: NVB2R7 SFO→LHR day +15 business ($4,820, refundable).
  * **Jordan Lee** (Globex), +12065550142: NVC9D4 SEA→BOS day +6 (basic fare).
  * **Maria Gonzalez** (Initech), +13125550177: NVD5H6 ORD→SFO day +4 (refundable fare).
  * **Sam Carter** (Globex), no phone on file: NVE8J3 DEN→AUS tomorrow (main fare).

Schedule: ten routes (SFO⇄JFK, SFO⇄ORD, SEA⇄BOS, SFO⇄LHR, AUS⇄DEN), three flights a day from
yesterday to 30 days ahead, each with economy, premium economy, business and (long haul) first
fares. Fares are a deterministic function of route, day and departure slot.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from navan_voice.db import tables as t
from navan_voice.db.engine import make_session_factory, transaction, upgrade_database
from navan_voice.db.schedule import (
    AIRPORT_TZ,
    CABIN_FACTORS,
    economy_fare,
    local_to_utc,
    route_between,
    schedule,
    utc_to_local,
)
from navan_voice.domain.models import (
    BookingStatus,
    CabinClass,
    ExpenseStatus,
    FareFamily,
    SegmentStatus,
)

logger = logging.getLogger(__name__)

DEMO_PHONE = "+14155550123"
DEMO_CONFIRMATION = "NVN7Q2"
DEMO_LAST_NAME = "Rivera"
DEMO_HOTEL_CODE = "HTL-48213"


def _segment(
    today: date,
    origin: str,
    destination: str,
    day_offset: int,
    slot: int,
    *,
    cabin: CabinClass = CabinClass.ECONOMY,
    family: FareFamily = FareFamily.MAIN,
    booked_days_ago: int = 20,
) -> t.FlightSegment:
    route = route_between(origin, destination)
    number, dep = route.slots[slot]
    o_tz, d_tz = AIRPORT_TZ[origin], AIRPORT_TZ[destination]
    dep_local = datetime.combine(today + timedelta(days=day_offset), dep)
    dep_utc = local_to_utc(dep_local, o_tz)
    arr_utc = dep_utc + timedelta(minutes=route.minutes)
    factor, fare_class = CABIN_FACTORS[cabin]
    return t.FlightSegment(
        carrier=route.carrier,
        flight_number=f"{route.code} {number}",
        origin=origin,
        destination=destination,
        departure_local=dep_local,
        departure_tz=o_tz,
        departure_utc=dep_utc,
        arrival_local=utc_to_local(arr_utc, d_tz),
        arrival_tz=d_tz,
        cabin=cabin,
        fare_class=fare_class,
        fare_family=family,
        fare_cents=economy_fare(route, day_offset, slot) * factor // 100,
        booked_at_utc=datetime.combine(today - timedelta(days=booked_days_ago), time(15, 0)),
        status=SegmentStatus.CONFIRMED,
        version=1,
    )


def _policy(
    rules: list[tuple[int, CabinClass]],
    caps: dict[str, int],
    default_cap: int,
    advance: int,
    threshold: int,
) -> t.TravelPolicy:
    return t.TravelPolicy(
        advance_booking_days=advance,
        approval_threshold_cents=threshold,
        default_hotel_cap_cents=default_cap,
        cabin_rules=[t.CabinRule(min_duration_minutes=m, cabin=c) for m, c in rules],
        hotel_caps=[t.HotelCap(city=c, nightly_cap_cents=v) for c, v in caps.items()],
    )


def _traveler(company: t.Company, first: str, last: str, phone: str | None) -> t.Traveler:
    email = f"{first}.{last}@{company.name.split()[0].lower()}.example".lower()
    phones = [t.TravelerPhone(phone_e164=phone)] if phone else []
    return t.Traveler(company=company, first_name=first, last_name=last, email=email, phones=phones)


def _add_people(session: Session, today: date) -> None:
    d = today
    acme = t.Company(name="Acme Robotics")
    acme.policy = _policy(
        [(0, CabinClass.ECONOMY), (360, CabinClass.PREMIUM_ECONOMY), (600, CabinClass.BUSINESS)],
        {"New York": 35000, "San Francisco": 30000, "London": 40000},
        25000,
        7,
        40000,
    )
    globex = t.Company(name="Globex Health")
    globex.policy = _policy(
        [(0, CabinClass.ECONOMY), (480, CabinClass.PREMIUM_ECONOMY)],
        {"Boston": 28000},
        22000,
        14,
        25000,
    )
    initech = t.Company(name="Initech")
    initech.policy = _policy([(0, CabinClass.ECONOMY)], {}, 20000, 3, 60000)
    session.add_all([acme, globex, initech])

    alex = _traveler(acme, "Alex", "Rivera", DEMO_PHONE)
    priya = _traveler(acme, "Priya", "Shah", "+14155550188")
    jordan = _traveler(globex, "Jordan", "Lee", "+12065550142")
    maria = _traveler(initech, "Maria", "Gonzalez", "+13125550177")
    sam = _traveler(globex, "Sam", "Carter", None)
    session.add_all([alex, priya, jordan, maria, sam])
    session.flush()

    def trip(who: t.Traveler, code: str, name: str, start: int, end: int) -> t.Trip:
        row = t.Trip(
            traveler_id=who.id,
            name=name,
            confirmation_code=code,
            start_date=d + timedelta(days=start),
            end_date=d + timedelta(days=end),
        )
        session.add(row)
        return row

    nyc = trip(alex, DEMO_CONFIRMATION, "New York customer visit", 10, 13)
    nyc.segments = [_segment(d, "SFO", "JFK", 10, 0), _segment(d, "JFK", "SFO", 13, 2)]
    nyc.hotels = [
        t.HotelStay(
            confirmation_code=DEMO_HOTEL_CODE,
            hotel_name="Hotel Marlowe Midtown",
            city="New York",
            check_in=d + timedelta(days=10),
            check_out=d + timedelta(days=13),
            nightly_rate_cents=32900,
            status=BookingStatus.CONFIRMED,
            version=1,
        )
    ]
    nyc.cars = [
        t.CarRental(
            confirmation_code="CAR-7781",
            vendor="Hertz",
            pickup_location="JFK Terminal 4",
            pickup_at=datetime.combine(d + timedelta(days=10), time(17, 0)),
            dropoff_at=datetime.combine(d + timedelta(days=13), time(14, 0)),
            daily_rate_cents=6900,
            status=BookingStatus.CONFIRMED,
        )
    ]
    den = trip(alex, "NVK4M8", "Denver offsite", 20, 22)
    den.segments = [_segment(d, "AUS", "DEN", 20, 0, family=FareFamily.BASIC)]
    past = trip(alex, "NVP3X1", "Chicago quarterly review", -30, -28)
    past.segments = [_segment(d, "SFO", "ORD", -30, 1)]

    lhr = trip(priya, "NVB2R7", "London partner summit", 15, 19)
    lhr.segments = [
        _segment(d, "SFO", "LHR", 15, 0, cabin=CabinClass.BUSINESS, family=FareFamily.REFUNDABLE)
    ]
    lhr.hotels = [
        t.HotelStay(
            confirmation_code="HTL-55102",
            hotel_name="The Hoxton Holborn",
            city="London",
            check_in=d + timedelta(days=16),
            check_out=d + timedelta(days=19),
            nightly_rate_cents=38500,
            status=BookingStatus.CONFIRMED,
            version=1,
        )
    ]
    bos = trip(jordan, "NVC9D4", "Boston clinic rollout", 6, 9)
    bos.segments = [_segment(d, "SEA", "BOS", 6, 1, family=FareFamily.BASIC)]
    sfo = trip(maria, "NVD5H6", "San Francisco training", 4, 6)
    sfo.segments = [_segment(d, "ORD", "SFO", 4, 0, family=FareFamily.REFUNDABLE)]
    aus = trip(sam, "NVE8J3", "Austin site visit", 1, 2)
    aus.segments = [_segment(d, "DEN", "AUS", 1, 1, booked_days_ago=0)]

    session.add_all(
        [
            t.Expense(
                traveler_id=alex.id,
                merchant="Blue Bottle Coffee",
                amount_cents=1275,
                currency="USD",
                incurred_on=d - timedelta(days=29),
                status=ExpenseStatus.APPROVED,
                note="",
            ),
            t.Expense(
                traveler_id=alex.id,
                merchant="Hyatt Regency Chicago",
                amount_cents=61800,
                currency="USD",
                incurred_on=d - timedelta(days=28),
                status=ExpenseStatus.REIMBURSED,
                note="paid with the payroll run",
            ),
            t.Expense(
                traveler_id=alex.id,
                merchant="Uber",
                amount_cents=4630,
                currency="USD",
                incurred_on=d - timedelta(days=28),
                status=ExpenseStatus.NEEDS_RECEIPT,
                note="upload the receipt in the Navan app",
            ),
            t.Expense(
                traveler_id=alex.id,
                merchant="Client dinner at RPM",
                amount_cents=24890,
                currency="USD",
                incurred_on=d - timedelta(days=3),
                status=ExpenseStatus.SUBMITTED,
                note="waiting for manager approval",
            ),
            t.Expense(
                traveler_id=priya.id,
                merchant="Heathrow Express",
                amount_cents=2500,
                currency="GBP",
                incurred_on=d - timedelta(days=60),
                status=ExpenseStatus.REJECTED,
                note="duplicate of an earlier claim",
            ),
        ]
    )


def seed(session: Session, *, today: date) -> bool:
    """Insert the demo data into an open session; False when it is already there."""
    if session.scalars(select(t.Company).where(t.Company.name == "Acme Robotics")).first():
        return False
    session.add_all(schedule(today))
    _add_people(session, today)
    return True


def _wipe(session: Session) -> None:
    for table in reversed(t.Base.metadata.sorted_tables):
        session.execute(table.delete())


def seed_database(url: str, *, today: date | None = None, reset: bool = False) -> bool:
    """Upgrade the schema at ``url`` and add the demo data once; True when data was added."""
    upgrade_database(url)
    factory = make_session_factory(url)
    try:
        with transaction(factory) as session:
            if reset:
                _wipe(session)
            added = seed(session, today=today or date.today())
    finally:
        bind = factory.kw["bind"]
        bind.dispose()
    logger.info("demo data %s", "added" if added else "already present")
    return added
