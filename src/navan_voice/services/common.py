"""Helpers every service shares: the clock, date parsing, ownership checks, the audit trail."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy.orm import Session

from navan_voice.db import repositories as repo
from navan_voice.db import tables as t
from navan_voice.domain.errors import (
    CallerNotIdentifiedError,
    InvalidRequestError,
    NotAuthorizedError,
    NotFoundError,
)

MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def utc_now() -> datetime:
    """Now as naive UTC, the form the tables store."""
    return datetime.now(UTC).replace(tzinfo=None)


# the zone where the day ends last: the day a booking of unknown place may still be on
EARLIEST_TZ = "Etc/GMT+12"


# cities whose time zone is named after another city (IANA names one city per zone): the US
# cities travelers fly to most; any city IANA names itself ("New York", "London") needs no entry
_CITY_ZONES = {
    "san francisco": "America/Los_Angeles", "san jose": "America/Los_Angeles",
    "seattle": "America/Los_Angeles", "portland": "America/Los_Angeles",
    "san diego": "America/Los_Angeles", "las vegas": "America/Los_Angeles",
    "boston": "America/New_York", "washington": "America/New_York",
    "atlanta": "America/New_York", "miami": "America/New_York",
    "austin": "America/Chicago", "dallas": "America/Chicago", "houston": "America/Chicago",
    "phoenix": "America/Phoenix", "salt lake city": "America/Denver",
}  # fmt: skip


@cache
def _iana_cities() -> dict[str, str]:
    """Each IANA zone by the city in its name: "new york" -> "America/New_York"."""
    return {
        zone.rsplit("/", 1)[-1].replace("_", " ").lower(): zone
        for zone in sorted(available_timezones())
        if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "US/"))
    }


def city_zone(city: str) -> str | None:
    """The time zone of a hotel's city, when known (``None``: ask no further)."""
    key = city.strip().lower()
    return _CITY_ZONES.get(key) or _iana_cities().get(key)


def local_date(now: datetime, tz: str) -> date:
    """The date it is in ``tz`` at ``now`` (naive UTC): at 6:30 pm in San Francisco it is
    already tomorrow in UTC, and "today" means the San Francisco day."""
    return now.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).date()


def parse_date(text: str, *, today: date, earliest: date | None = None) -> date:
    """A date a caller or a model gave, refusing the unparseable and the past.

    Accepts ISO (2025-03-14), US numeric (3/14 or 3/14/2025), "March 14" / "14 March" with an
    optional year, "today", "tomorrow" and weekday names (the next such day). A month and day
    without a year mean the next time that date comes round. ``earliest``: the first date
    accepted when it is before ``today`` (a stay already begun keeps its check-in date).
    """
    floor = min(today, earliest) if earliest is not None else today
    raw = text.strip().lower().rstrip(".")
    raw = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", raw).replace(",", " ")
    raw = re.sub(r"^(on|next|this)\s+", "", raw)
    parsed: date | None = None
    explicit_year = False
    try:
        if raw in ("today", "tonight"):
            parsed = today
        elif raw == "tomorrow":
            parsed = today + timedelta(days=1)
        elif raw in WEEKDAYS:
            ahead = (WEEKDAYS.index(raw) - today.weekday()) % 7 or 7
            parsed = today + timedelta(days=ahead)
        elif m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw):
            parsed, explicit_year = date(int(m[1]), int(m[2]), int(m[3])), True
        elif m := re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?", raw):
            year = int(m[3]) if m[3] else None
            if year is not None and year < 100:
                year += 2000
            parsed, explicit_year = _month_day(int(m[1]), int(m[2]), year, floor), bool(m[3])
        else:
            words = raw.split()
            month = next((MONTHS[w] for w in words if w in MONTHS), None)
            numbers = [int(w) for w in words if w.isdigit()]
            days = [n for n in numbers if 1 <= n <= 31]
            years = [n for n in numbers if n >= 1900]
            if month is not None and days and len(words) == 1 + len(numbers):
                year = years[0] if years else None
                parsed, explicit_year = _month_day(month, days[0], year, floor), bool(years)
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidRequestError(
            f"I could not understand the date {text!r}; please say it like 'March 14' "
            "or give it as year-month-day."
        )
    if parsed < floor:
        raise InvalidRequestError(
            f"{parsed:%B %-d, %Y} is in the past; please give a date from today on."
        )
    if explicit_year and parsed > today + timedelta(days=365):
        raise InvalidRequestError(
            f"{parsed:%B %-d, %Y} is more than a year away; bookings open 12 months ahead."
        )
    return parsed


def _month_day(month: int, day: int, year: int | None, today: date) -> date:
    if year is not None:
        return date(year, month, day)
    candidate = date(today.year, month, day)
    return candidate if candidate >= today else date(today.year + 1, month, day)


def require_traveler(session: Session, traveler_id: int | None) -> t.Traveler:
    """The identified caller's row; refuses when nobody has been identified yet."""
    if traveler_id is None:
        raise CallerNotIdentifiedError(
            "I need to know who is calling before I can look at bookings; please give me "
            "your trip confirmation code and your last name."
        )
    row = repo.traveler_by_id(session, traveler_id)
    if row is None:
        raise CallerNotIdentifiedError(
            "I could not find your traveler profile; please give me your trip confirmation "
            "code and your last name."
        )
    return row


def own_segment(session: Session, traveler_id: int | None, segment_id: int) -> t.FlightSegment:
    """A flight segment that belongs to the caller; anyone else's is refused."""
    require_traveler(session, traveler_id)
    row = repo.segment_by_id(session, segment_id)
    if row is None:
        raise NotFoundError("I could not find that flight on any booking.")
    if row.trip.traveler_id != traveler_id:
        raise_not_yours()
    return row


def own_hotel(session: Session, traveler_id: int | None, stay_id: int) -> t.HotelStay:
    require_traveler(session, traveler_id)
    row = repo.hotel_by_id(session, stay_id)
    if row is None:
        raise NotFoundError("I could not find that hotel booking.")
    trip = repo.trip_by_id(session, row.trip_id)
    if trip is None or trip.traveler_id != traveler_id:
        raise_not_yours()
    return row


def raise_not_yours() -> None:
    raise NotAuthorizedError(
        "That booking is not under your name, so I cannot share or change it. The traveler "
        "on the booking, or their travel administrator, can contact us directly."
    )


def cover_in_trip(trip: t.Trip, first_day: date, last_day: date) -> None:
    """Widen a trip's dates to cover a booking moved to ``first_day``..``last_day``: a booking
    moved past its trip's end would stop being "upcoming" while it is still to come."""
    trip.start_date = min(trip.start_date, first_day)
    trip.end_date = max(trip.end_date, last_day)


def snapshot(row: Any, *fields: str) -> dict[str, Any]:
    """The named attributes of ``row`` as JSON-friendly values, for the audit log."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(row, name)
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif hasattr(value, "value"):
            value = value.value
        out[name] = value
    return out


def audit(
    session: Session,
    *,
    traveler_id: int | None,
    call_id: str,
    action: str,
    entity: str,
    entity_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime | None = None,
) -> None:
    """Record one change the agent made, in the same transaction as the change."""
    actor = f"voice-agent for traveler {traveler_id}" if traveler_id else "voice-agent"
    repo.add_audit(
        session,
        at_utc=now or utc_now(),
        actor=actor,
        call_id=call_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )
