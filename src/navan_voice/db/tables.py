"""The SQL tables of the travel back end (SQLAlchemy 2, typed ``Mapped[]`` columns).

Conventions: money in integer cents; flight times stored twice, as the local wall-clock time with
its IANA zone (what a traveler reads) and as naive UTC (for ordering and "upcoming" queries);
rows a caller can change concurrently carry a ``version`` column that SQLAlchemy checks on every
UPDATE (optimistic locking: the second of two simultaneous changes fails with StaleDataError).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from navan_voice.domain.models import (
    ApprovalStatus,
    BookingStatus,
    CabinClass,
    CaseStatus,
    ExpenseStatus,
    FareFamily,
    SegmentStatus,
)

# Stable constraint names, so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _enum(cls: type[enum.Enum]) -> Enum:
    # stored as the enum's value in a VARCHAR: portable, readable, no native ENUM type to migrate
    return Enum(
        cls,
        native_enum=False,
        length=24,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    policy: Mapped[TravelPolicy] = relationship(back_populates="company", uselist=False)


class TravelPolicy(Base):
    __tablename__ = "travel_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), unique=True)
    advance_booking_days: Mapped[int] = mapped_column(Integer)
    approval_threshold_cents: Mapped[int] = mapped_column(Integer)
    default_hotel_cap_cents: Mapped[int] = mapped_column(Integer)
    company: Mapped[Company] = relationship(back_populates="policy")
    cabin_rules: Mapped[list[CabinRule]] = relationship(cascade="all, delete-orphan")
    hotel_caps: Mapped[list[HotelCap]] = relationship(cascade="all, delete-orphan")


class CabinRule(Base):
    """Flights of at least ``min_duration_minutes`` may be booked in ``cabin``."""

    __tablename__ = "policy_cabin_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("travel_policies.id"))
    min_duration_minutes: Mapped[int] = mapped_column(Integer)
    cabin: Mapped[CabinClass] = mapped_column(_enum(CabinClass))


class HotelCap(Base):
    __tablename__ = "policy_hotel_caps"
    __table_args__ = (UniqueConstraint("policy_id", "city"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("travel_policies.id"))
    city: Mapped[str] = mapped_column(String(80))
    nightly_cap_cents: Mapped[int] = mapped_column(Integer)


class Traveler(Base):
    __tablename__ = "travelers"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80), index=True)
    email: Mapped[str] = mapped_column(String(160), unique=True)
    company: Mapped[Company] = relationship()
    phones: Mapped[list[TravelerPhone]] = relationship(cascade="all, delete-orphan")


class TravelerPhone(Base):
    __tablename__ = "traveler_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    traveler_id: Mapped[int] = mapped_column(ForeignKey("travelers.id"))
    phone_e164: Mapped[str] = mapped_column(String(20), unique=True)


class Trip(Base):
    __tablename__ = "trips"

    id: Mapped[int] = mapped_column(primary_key=True)
    traveler_id: Mapped[int] = mapped_column(ForeignKey("travelers.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    confirmation_code: Mapped[str] = mapped_column(String(8), unique=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    segments: Mapped[list[FlightSegment]] = relationship(
        back_populates="trip", order_by="FlightSegment.departure_utc"
    )
    hotels: Mapped[list[HotelStay]] = relationship(order_by="HotelStay.check_in")
    cars: Mapped[list[CarRental]] = relationship(order_by="CarRental.pickup_at")


class FlightSegment(Base):
    __tablename__ = "flight_segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trips.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(60))
    flight_number: Mapped[str] = mapped_column(String(10))
    origin: Mapped[str] = mapped_column(String(3))
    destination: Mapped[str] = mapped_column(String(3))
    departure_local: Mapped[datetime] = mapped_column(DateTime)
    departure_tz: Mapped[str] = mapped_column(String(40))
    departure_utc: Mapped[datetime] = mapped_column(DateTime, index=True)
    arrival_local: Mapped[datetime] = mapped_column(DateTime)
    arrival_tz: Mapped[str] = mapped_column(String(40))
    cabin: Mapped[CabinClass] = mapped_column(_enum(CabinClass))
    fare_class: Mapped[str] = mapped_column(String(2))
    fare_family: Mapped[FareFamily] = mapped_column(_enum(FareFamily))
    fare_cents: Mapped[int] = mapped_column(Integer)
    booked_at_utc: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[SegmentStatus] = mapped_column(_enum(SegmentStatus))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    trip: Mapped[Trip] = relationship(back_populates="segments")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's own protocol


class HotelStay(Base):
    __tablename__ = "hotel_stays"

    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trips.id"), index=True)
    confirmation_code: Mapped[str] = mapped_column(String(12))
    hotel_name: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(80))
    check_in: Mapped[date] = mapped_column(Date)
    check_out: Mapped[date] = mapped_column(Date)
    nightly_rate_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[BookingStatus] = mapped_column(_enum(BookingStatus))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CarRental(Base):
    __tablename__ = "car_rentals"

    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trips.id"), index=True)
    confirmation_code: Mapped[str] = mapped_column(String(12))
    vendor: Mapped[str] = mapped_column(String(60))
    pickup_location: Mapped[str] = mapped_column(String(120))
    pickup_at: Mapped[datetime] = mapped_column(DateTime)
    dropoff_at: Mapped[datetime] = mapped_column(DateTime)
    daily_rate_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[BookingStatus] = mapped_column(_enum(BookingStatus))


class Expense(Base):
    __tablename__ = "expenses"

    id: Mapped[int] = mapped_column(primary_key=True)
    traveler_id: Mapped[int] = mapped_column(ForeignKey("travelers.id"), index=True)
    merchant: Mapped[str] = mapped_column(String(120))
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    incurred_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ExpenseStatus] = mapped_column(_enum(ExpenseStatus))
    note: Mapped[str] = mapped_column(Text, default="")


class SupportCase(Base):
    __tablename__ = "support_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    traveler_id: Mapped[int | None] = mapped_column(ForeignKey("travelers.id"), nullable=True)
    call_id: Mapped[str] = mapped_column(String(80), index=True)
    category: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus))
    created_at_utc: Mapped[datetime] = mapped_column(DateTime)


class ApprovalRequest(Base):
    """A flight change above the company's approval threshold, waiting for a manager."""

    __tablename__ = "approval_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    traveler_id: Mapped[int] = mapped_column(ForeignKey("travelers.id"))
    segment_id: Mapped[int] = mapped_column(ForeignKey("flight_segments.id"))
    scheduled_flight_id: Mapped[int] = mapped_column(ForeignKey("scheduled_flights.id"))
    total_due_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ApprovalStatus] = mapped_column(_enum(ApprovalStatus))
    call_id: Mapped[str] = mapped_column(String(80))
    created_at_utc: Mapped[datetime] = mapped_column(DateTime)
    # the cabin the change was priced in (None: filed before it was kept; the segment's cabin)
    cabin: Mapped[CabinClass | None] = mapped_column(_enum(CabinClass), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    decided_at_utc: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # when the traveler was told the decision at the start of a call (approvals.decisions_to_tell)
    told_at_utc: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    told_on_call: Mapped[str | None] = mapped_column(String(80), nullable=True)


class AuditEntry(Base):
    """One change the agent made: who, what, the record before and after, and the call."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at_utc: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(120))
    call_id: Mapped[str] = mapped_column(String(80), index=True)
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ScheduledFlight(Base):
    """A flight in the airline schedule that a booked segment could be moved to."""

    __tablename__ = "scheduled_flights"
    __table_args__ = (UniqueConstraint("flight_number", "departure_utc"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier: Mapped[str] = mapped_column(String(60))
    flight_number: Mapped[str] = mapped_column(String(10))
    origin: Mapped[str] = mapped_column(String(3), index=True)
    destination: Mapped[str] = mapped_column(String(3), index=True)
    departure_local: Mapped[datetime] = mapped_column(DateTime)
    departure_tz: Mapped[str] = mapped_column(String(40))
    departure_utc: Mapped[datetime] = mapped_column(DateTime, index=True)
    arrival_local: Mapped[datetime] = mapped_column(DateTime)
    arrival_tz: Mapped[str] = mapped_column(String(40))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    fares: Mapped[list[ScheduledFare]] = relationship(cascade="all, delete-orphan")


class ScheduledFare(Base):
    __tablename__ = "scheduled_fares"
    __table_args__ = (UniqueConstraint("flight_id", "cabin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flight_id: Mapped[int] = mapped_column(ForeignKey("scheduled_flights.id"))
    cabin: Mapped[CabinClass] = mapped_column(_enum(CabinClass))
    fare_class: Mapped[str] = mapped_column(String(2))
    fare_cents: Mapped[int] = mapped_column(Integer)
    seats_left: Mapped[int] = mapped_column(Integer)
