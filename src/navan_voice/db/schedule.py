"""The demo airline schedule: routes, departure slots and fares, as a function of "today".

Ten routes, three flights a day from yesterday to 30 days ahead; every fare is a deterministic
function of route, day offset and slot, so tests and demos see the same numbers each day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from navan_voice.db import tables as t
from navan_voice.domain.models import CabinClass

AIRPORT_TZ = {
    "SFO": "America/Los_Angeles",
    "SEA": "America/Los_Angeles",
    "JFK": "America/New_York",
    "BOS": "America/New_York",
    "ORD": "America/Chicago",
    "AUS": "America/Chicago",
    "DEN": "America/Denver",
    "LHR": "Europe/London",
}


@dataclass(frozen=True)
class Route:
    carrier: str
    code: str  # airline code, e.g. "UA"
    origin: str
    destination: str
    minutes: int
    base_cents: int  # economy fare of the first slot
    slots: tuple[tuple[int, time], ...]  # (flight number, local departure time)


ROUTES: tuple[Route, ...] = (
    Route(
        "United",
        "UA",
        "SFO",
        "JFK",
        330,
        38900,
        ((1542, time(8, 0)), (1544, time(12, 30)), (1546, time(21, 45))),
    ),
    Route(
        "United",
        "UA",
        "JFK",
        "SFO",
        395,
        41200,
        ((1541, time(7, 0)), (1545, time(13, 15)), (1543, time(17, 30))),
    ),
    Route(
        "American",
        "AA",
        "SFO",
        "ORD",
        255,
        27900,
        ((2210, time(6, 30)), (2212, time(11, 0)), (2214, time(16, 20))),
    ),
    Route(
        "American",
        "AA",
        "ORD",
        "SFO",
        275,
        28900,
        ((2211, time(8, 10)), (2213, time(14, 0)), (2215, time(19, 5))),
    ),
    Route(
        "Alaska",
        "AS",
        "SEA",
        "BOS",
        330,
        31900,
        ((12, time(7, 45)), (14, time(13, 5)), (16, time(22, 30))),
    ),
    Route(
        "Alaska",
        "AS",
        "BOS",
        "SEA",
        385,
        32900,
        ((11, time(8, 20)), (13, time(15, 40)), (15, time(19, 10))),
    ),
    Route(
        "British Airways",
        "BA",
        "SFO",
        "LHR",
        630,
        98000,
        ((284, time(16, 40)), (286, time(19, 50)), (288, time(21, 25))),
    ),
    Route(
        "British Airways",
        "BA",
        "LHR",
        "SFO",
        665,
        102000,
        ((285, time(11, 25)), (287, time(14, 15)), (283, time(16, 5))),
    ),
    Route(
        "Southwest",
        "WN",
        "AUS",
        "DEN",
        135,
        14900,
        ((2210, time(7, 15)), (2230, time(12, 40)), (2250, time(18, 5))),
    ),
    Route(
        "Southwest",
        "WN",
        "DEN",
        "AUS",
        125,
        15900,
        ((2211, time(9, 0)), (2231, time(14, 30)), (2251, time(20, 15))),
    ),
)

# Multipliers of the economy fare per cabin; first only on long haul.
CABIN_FACTORS = {
    CabinClass.ECONOMY: (100, "M"),
    CabinClass.PREMIUM_ECONOMY: (165, "W"),
    CabinClass.BUSINESS: (420, "J"),
    CabinClass.FIRST: (700, "F"),
}
FIRST_MIN_MINUTES = 600
SCHEDULE_DAYS = range(-1, 31)


def route_between(origin: str, destination: str) -> Route:
    return next(r for r in ROUTES if (r.origin, r.destination) == (origin, destination))


def local_to_utc(local: datetime, tz: str) -> datetime:
    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC).replace(tzinfo=None)


def utc_to_local(utc: datetime, tz: str) -> datetime:
    return utc.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def economy_fare(route: Route, day_offset: int, slot: int) -> int:
    """Deterministic economy fare: dearer close to departure and at the middle slot."""
    closeness = max(0, 14 - day_offset) * 900  # +$9 a day inside two weeks
    slot_delta = (0, 5500, -2500)[slot]
    weekday_wave = (day_offset * 7 % 5) * 1100
    return route.base_cents + closeness + slot_delta + weekday_wave


def schedule(today: date) -> list[t.ScheduledFlight]:
    flights = []
    for route in ROUTES:
        o_tz, d_tz = AIRPORT_TZ[route.origin], AIRPORT_TZ[route.destination]
        for offset in SCHEDULE_DAYS:
            day = today + timedelta(days=offset)
            for slot, (number, dep) in enumerate(route.slots):
                dep_local = datetime.combine(day, dep)
                dep_utc = local_to_utc(dep_local, o_tz)
                arr_utc = dep_utc + timedelta(minutes=route.minutes)
                flight = t.ScheduledFlight(
                    carrier=route.carrier,
                    flight_number=f"{route.code} {number}",
                    origin=route.origin,
                    destination=route.destination,
                    departure_local=dep_local,
                    departure_tz=o_tz,
                    departure_utc=dep_utc,
                    arrival_local=utc_to_local(arr_utc, d_tz),
                    arrival_tz=d_tz,
                    duration_minutes=route.minutes,
                )
                econ = economy_fare(route, offset, slot)
                for cabin, (factor, fare_class) in CABIN_FACTORS.items():
                    if cabin is CabinClass.FIRST and route.minutes < FIRST_MIN_MINUTES:
                        continue
                    seats = (offset + slot + factor) % 9  # some flights sell out (0 seats)
                    flight.fares.append(
                        t.ScheduledFare(
                            cabin=cabin,
                            fare_class=fare_class,
                            fare_cents=econ * factor // 100,
                            seats_left=seats,
                        )
                    )
                flights.append(flight)
    return flights
