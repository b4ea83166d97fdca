"""Repositories: the queries the services need, and the mapping from rows to domain types.

Every function takes an open ``Session`` (the services own the transaction) and returns either
ORM rows (when the caller will change them) or frozen domain objects (when it only reads).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from navan_voice.db import tables as t
from navan_voice.domain import models as m


# --- row -> domain ----------------------------------------------------------------------------
def to_traveler(row: t.Traveler) -> m.Traveler:
    return m.Traveler(
        id=row.id,
        first_name=row.first_name,
        last_name=row.last_name,
        company_id=row.company_id,
        company_name=row.company.name,
        email=row.email,
    )


def to_segment(row: t.FlightSegment) -> m.FlightSegment:
    return m.FlightSegment(
        id=row.id,
        trip_id=row.trip_id,
        confirmation_code=row.trip.confirmation_code,
        carrier=row.carrier,
        flight_number=row.flight_number,
        origin=row.origin,
        destination=row.destination,
        departure_local=row.departure_local,
        departure_tz=row.departure_tz,
        arrival_local=row.arrival_local,
        arrival_tz=row.arrival_tz,
        cabin=row.cabin,
        fare_class=row.fare_class,
        fare_family=row.fare_family,
        fare_cents=row.fare_cents,
        status=row.status,
        version=row.version,
    )


def to_hotel(row: t.HotelStay) -> m.HotelStay:
    return m.HotelStay(
        id=row.id,
        trip_id=row.trip_id,
        confirmation_code=row.confirmation_code,
        hotel_name=row.hotel_name,
        city=row.city,
        check_in=row.check_in,
        check_out=row.check_out,
        nightly_rate_cents=row.nightly_rate_cents,
        status=row.status,
        version=row.version,
    )


def to_car(row: t.CarRental) -> m.CarRental:
    return m.CarRental(
        id=row.id,
        trip_id=row.trip_id,
        confirmation_code=row.confirmation_code,
        vendor=row.vendor,
        pickup_location=row.pickup_location,
        pickup_at=row.pickup_at,
        dropoff_at=row.dropoff_at,
        daily_rate_cents=row.daily_rate_cents,
        status=row.status,
    )


def to_trip(row: t.Trip) -> m.Trip:
    return m.Trip(
        id=row.id,
        traveler_id=row.traveler_id,
        name=row.name,
        confirmation_code=row.confirmation_code,
        start_date=row.start_date,
        end_date=row.end_date,
        segments=tuple(to_segment(s) for s in row.segments),
        hotels=tuple(to_hotel(h) for h in row.hotels),
        cars=tuple(to_car(c) for c in row.cars),
    )


def to_option(flight: t.ScheduledFlight, fare: t.ScheduledFare) -> m.FlightOption:
    return m.FlightOption(
        id=flight.id,
        carrier=flight.carrier,
        flight_number=flight.flight_number,
        origin=flight.origin,
        destination=flight.destination,
        departure_local=flight.departure_local,
        departure_tz=flight.departure_tz,
        arrival_local=flight.arrival_local,
        arrival_tz=flight.arrival_tz,
        cabin=fare.cabin,
        fare_cents=fare.fare_cents,
        seats_left=fare.seats_left,
        duration_minutes=flight.duration_minutes,
    )


def to_policy(company: t.Company) -> m.PolicySummary:
    policy = company.policy
    return m.PolicySummary(
        company_name=company.name,
        cabin_rules=tuple(sorted((r.min_duration_minutes, r.cabin) for r in policy.cabin_rules)),
        hotel_caps_cents={c.city: c.nightly_cap_cents for c in policy.hotel_caps},
        default_hotel_cap_cents=policy.default_hotel_cap_cents,
        advance_booking_days=policy.advance_booking_days,
        approval_threshold_cents=policy.approval_threshold_cents,
    )


def to_expense(row: t.Expense) -> m.Expense:
    return m.Expense(
        id=row.id,
        traveler_id=row.traveler_id,
        merchant=row.merchant,
        amount_cents=row.amount_cents,
        currency=row.currency,
        incurred_on=row.incurred_on,
        status=row.status,
        note=row.note,
    )


def to_case(row: t.SupportCase) -> m.SupportCase:
    return m.SupportCase(
        id=row.id,
        reference=row.reference,
        traveler_id=row.traveler_id,
        call_id=row.call_id,
        category=row.category,
        summary=row.summary,
        status=row.status,
    )


# --- travelers ----------------------------------------------------------------------------------
def traveler_by_id(session: Session, traveler_id: int) -> t.Traveler | None:
    return session.get(t.Traveler, traveler_id)


def any_traveler_with_trip(session: Session) -> int | None:
    """Some traveler who has a trip (the lowest id), or None in an empty database."""
    return session.scalars(select(t.Trip.traveler_id).order_by(t.Trip.traveler_id).limit(1)).first()


def traveler_by_phone(session: Session, phone_e164: str) -> t.Traveler | None:
    stmt = select(t.Traveler).join(t.TravelerPhone).where(t.TravelerPhone.phone_e164 == phone_e164)
    return session.scalars(stmt).first()


def trip_by_code(session: Session, code: str) -> t.Trip | None:
    stmt = select(t.Trip).where(func.upper(t.Trip.confirmation_code) == code.upper())
    return session.scalars(stmt).first()


def hotel_by_code(session: Session, code: str) -> t.HotelStay | None:
    stmt = select(t.HotelStay).where(func.upper(t.HotelStay.confirmation_code) == code.upper())
    return session.scalars(stmt).first()


def company_with_policy(session: Session, company_id: int) -> t.Company | None:
    stmt = (
        select(t.Company)
        .where(t.Company.id == company_id)
        .options(
            selectinload(t.Company.policy).selectinload(t.TravelPolicy.cabin_rules),
            selectinload(t.Company.policy).selectinload(t.TravelPolicy.hotel_caps),
        )
    )
    return session.scalars(stmt).first()


# --- trips --------------------------------------------------------------------------------------
def trips_ending_after(session: Session, traveler_id: int, day: date) -> list[t.Trip]:
    stmt = (
        select(t.Trip)
        .where(t.Trip.traveler_id == traveler_id, t.Trip.end_date >= day)
        .order_by(t.Trip.start_date)
        .options(
            selectinload(t.Trip.segments),
            selectinload(t.Trip.hotels),
            selectinload(t.Trip.cars),
        )
    )
    return list(session.scalars(stmt))


def segment_by_id(session: Session, segment_id: int) -> t.FlightSegment | None:
    return session.get(t.FlightSegment, segment_id)


def hotel_by_id(session: Session, stay_id: int) -> t.HotelStay | None:
    return session.get(t.HotelStay, stay_id)


def trip_by_id(session: Session, trip_id: int) -> t.Trip | None:
    return session.get(t.Trip, trip_id)


# --- schedule -----------------------------------------------------------------------------------
def scheduled_between(
    session: Session, origin: str, destination: str, start_utc: datetime, end_utc: datetime
) -> list[t.ScheduledFlight]:
    stmt = (
        select(t.ScheduledFlight)
        .where(
            t.ScheduledFlight.origin == origin,
            t.ScheduledFlight.destination == destination,
            t.ScheduledFlight.departure_utc >= start_utc,
            t.ScheduledFlight.departure_utc < end_utc,
        )
        .order_by(t.ScheduledFlight.departure_utc)
        .options(selectinload(t.ScheduledFlight.fares))
    )
    return list(session.scalars(stmt))


def scheduled_by_id(session: Session, flight_id: int) -> t.ScheduledFlight | None:
    return session.get(t.ScheduledFlight, flight_id)


def scheduled_for_segment(session: Session, segment: t.FlightSegment) -> t.ScheduledFlight | None:
    """The schedule entry a booked segment flies on (same number and departure)."""
    stmt = select(t.ScheduledFlight).where(
        t.ScheduledFlight.flight_number == segment.flight_number,
        t.ScheduledFlight.departure_utc == segment.departure_utc,
    )
    return session.scalars(stmt).first()


def pending_approval(session: Session, segment_id: int) -> t.ApprovalRequest | None:
    """The change of a segment waiting for a manager's approval, if any."""
    stmt = select(t.ApprovalRequest).where(
        t.ApprovalRequest.segment_id == segment_id,
        t.ApprovalRequest.status == m.ApprovalStatus.PENDING,
    )
    return session.scalars(stmt).first()


# --- expenses, cases, audit ---------------------------------------------------------------------
def expenses_for(session: Session, traveler_id: int) -> list[t.Expense]:
    stmt = (
        select(t.Expense)
        .where(t.Expense.traveler_id == traveler_id)
        .order_by(t.Expense.incurred_on.desc())
    )
    return list(session.scalars(stmt))


def add_audit(
    session: Session,
    *,
    at_utc: datetime,
    actor: str,
    call_id: str,
    action: str,
    entity: str,
    entity_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> t.AuditEntry:
    entry = t.AuditEntry(
        at_utc=at_utc,
        actor=actor,
        call_id=call_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


def audit_for_call(session: Session, call_id: str) -> list[t.AuditEntry]:
    stmt = select(t.AuditEntry).where(t.AuditEntry.call_id == call_id).order_by(t.AuditEntry.id)
    return list(session.scalars(stmt))
