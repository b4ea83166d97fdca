"""Travel domain types: what services return and agents speak about.

Plain frozen dataclasses and enums; no livekit, no SQL. Money is always an ``int`` of cents,
computed by the services (never by a model); times of flights are local wall-clock times with
their IANA time zone name, as a traveler reads them on a boarding pass.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime


class Channel(enum.StrEnum):
    """How the caller reached us."""

    PHONE = "phone"
    WEB = "web"


class CabinClass(enum.StrEnum):
    """Cabins, ordered from the cheapest to the most expensive (see ``CABIN_RANK``)."""

    ECONOMY = "economy"
    PREMIUM_ECONOMY = "premium_economy"
    BUSINESS = "business"
    FIRST = "first"


CABIN_RANK: dict[CabinClass, int] = {
    CabinClass.ECONOMY: 0,
    CabinClass.PREMIUM_ECONOMY: 1,
    CabinClass.BUSINESS: 2,
    CabinClass.FIRST: 3,
}


class FareFamily(enum.StrEnum):
    """What a ticket allows: changes and refunds depend on it."""

    BASIC = "basic"  # no changes; cancellation forfeits the fare
    MAIN = "main"  # changes for a fee; cancellation leaves a travel credit
    REFUNDABLE = "refundable"  # free changes; cancellation refunds to the card


class SegmentStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class BookingStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class ExpenseStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    REIMBURSED = "reimbursed"
    NEEDS_RECEIPT = "needs_receipt"


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ApprovalStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ChangeOutcome(enum.StrEnum):
    """What confirming a flight change did."""

    CHANGED = "changed"  # the segment now holds the new flight
    SENT_FOR_APPROVAL = "sent_for_approval"  # above the approval threshold: a manager decides


class RefundKind(enum.StrEnum):
    REFUND = "refund"  # money back to the original card
    CREDIT = "credit"  # a travel credit for a later trip
    NONE = "none"  # nothing back


@dataclass(frozen=True)
class Traveler:
    id: int
    first_name: str
    last_name: str
    company_id: int
    company_name: str
    email: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class FlightSegment:
    id: int
    trip_id: int
    confirmation_code: str
    carrier: str
    flight_number: str  # carrier code + number, e.g. "UA 1542"
    origin: str
    destination: str
    departure_local: datetime  # naive local wall-clock time at the origin
    departure_tz: str
    arrival_local: datetime
    arrival_tz: str
    cabin: CabinClass
    fare_class: str
    fare_family: FareFamily
    fare_cents: int
    status: SegmentStatus
    version: int

    @property
    def label(self) -> str:
        """How an agent names this flight aloud."""
        when = self.departure_local.strftime("%A %B %-d at %-I:%M %p")
        return f"{self.flight_number} from {self.origin} to {self.destination} on {when}"


@dataclass(frozen=True)
class HotelStay:
    id: int
    trip_id: int
    confirmation_code: str
    hotel_name: str
    city: str
    check_in: date
    check_out: date
    nightly_rate_cents: int
    status: BookingStatus
    version: int

    @property
    def nights(self) -> int:
        return (self.check_out - self.check_in).days


@dataclass(frozen=True)
class CarRental:
    id: int
    trip_id: int
    confirmation_code: str
    vendor: str
    pickup_location: str
    pickup_at: datetime
    dropoff_at: datetime
    daily_rate_cents: int
    status: BookingStatus


@dataclass(frozen=True)
class Trip:
    id: int
    traveler_id: int
    name: str
    confirmation_code: str
    start_date: date
    end_date: date
    segments: tuple[FlightSegment, ...] = ()
    hotels: tuple[HotelStay, ...] = ()
    cars: tuple[CarRental, ...] = ()


@dataclass(frozen=True)
class FlightOption:
    """A scheduled flight a segment could move to, with its fare in the segment's cabin."""

    id: int
    carrier: str
    flight_number: str
    origin: str
    destination: str
    departure_local: datetime
    departure_tz: str
    arrival_local: datetime
    arrival_tz: str
    cabin: CabinClass
    fare_cents: int
    seats_left: int
    duration_minutes: int

    @property
    def label(self) -> str:
        when = self.departure_local.strftime("%A %B %-d at %-I:%M %p")
        return f"{self.flight_number} departing {self.origin} {when}"


@dataclass(frozen=True)
class ChangeQuote:
    """A priced flight change, read back to the caller before anything is committed."""

    segment_id: int
    segment_version: int
    option_id: int
    old_flight: str
    new_flight: str
    cabin: CabinClass
    fare_difference_cents: int  # new fare minus old fare; negative when cheaper
    change_fee_cents: int
    total_due_cents: int  # what the company pays now (never below zero)
    credit_cents: int  # residual value kept as a travel credit when the new fare is cheaper
    needs_approval: bool
    approval_reason: str


@dataclass(frozen=True)
class ChangeResult:
    outcome: ChangeOutcome
    quote: ChangeQuote
    segment: FlightSegment
    approval_id: int | None = None


@dataclass(frozen=True)
class Approval:
    """A flight change filed for a manager's approval, as a manager reviews it."""

    id: int
    traveler: str
    company: str
    booked_flight: str  # as booked now
    requested_flight: str  # what the traveler asked for
    cabin: CabinClass
    total_due_cents: int
    reason: str
    status: ApprovalStatus
    call_id: str
    created_at_utc: datetime
    decided_by: str | None = None  # None on a decided request: closed by the system
    decided_at_utc: datetime | None = None
    flight_left: bool = False  # the flight asked for has departed: it can never be approved
    closed_as: str | None = None  # closed by the system: "withdrawn" or "expired"
    told_on_call: str | None = None  # the call on which the traveler was told the decision


@dataclass(frozen=True)
class CancelQuote:
    segment_id: int
    segment_version: int
    flight: str
    refund_kind: RefundKind
    amount_cents: int
    reason: str


@dataclass(frozen=True)
class HotelChangeQuote:
    stay_id: int
    stay_version: int
    hotel_name: str
    old_check_in: date
    old_check_out: date
    new_check_in: date
    new_check_out: date
    nightly_rate_cents: int
    nightly_cap_cents: int | None
    total_cents: int
    within_policy: bool


@dataclass(frozen=True)
class PolicySummary:
    """A company's travel rules, in the structure the services enforce."""

    company_name: str
    cabin_rules: tuple[tuple[int, CabinClass], ...]  # (minimum flight minutes, allowed cabin)
    hotel_caps_cents: dict[str, int] = field(default_factory=dict)  # city -> nightly cap
    default_hotel_cap_cents: int = 0
    advance_booking_days: int = 0
    approval_threshold_cents: int = 0

    def allowed_cabin(self, duration_minutes: int) -> CabinClass:
        """The best cabin the policy allows for a flight this long."""
        allowed = CabinClass.ECONOMY
        for min_minutes, cabin in sorted(self.cabin_rules):
            if duration_minutes >= min_minutes:
                allowed = cabin
        return allowed

    def hotel_cap(self, city: str) -> int:
        return self.hotel_caps_cents.get(city, self.default_hotel_cap_cents)


@dataclass(frozen=True)
class Expense:
    id: int
    traveler_id: int
    merchant: str
    amount_cents: int
    currency: str
    incurred_on: date
    status: ExpenseStatus
    note: str


@dataclass(frozen=True)
class SupportCase:
    id: int
    reference: str
    traveler_id: int | None
    call_id: str
    category: str
    summary: str
    status: CaseStatus


def format_money(cents: int, currency: str = "USD") -> str:
    """Cents as a speakable amount, e.g. 12345 -> "$123.45" ("$120" when whole)."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{sign}{symbol}{whole:,}" + (f".{frac:02d}" if frac else "")
