"""Short, speakable renderings of domain objects (what tools return to the model)."""

from __future__ import annotations

from datetime import date

from navan_voice.domain.models import (
    Approval,
    ApprovalStatus,
    CancelQuote,
    ChangeQuote,
    FlightOption,
    FlightSegment,
    HotelChangeQuote,
    HotelStay,
    RefundKind,
    Trip,
    format_money,
)


def when(dt_value: object) -> str:
    from datetime import datetime

    assert isinstance(dt_value, datetime)
    return dt_value.strftime("%A %B %-d at %-I:%M %p")


def segment(seg: FlightSegment) -> str:
    return (
        f"{seg.flight_number} from {seg.origin} to {seg.destination}, {when(seg.departure_local)}"
        f" local time, {seg.cabin.value.replace('_', ' ')}"
    )


def flight_times(seg: FlightSegment) -> str:
    """When a booked flight leaves and lands (local times at each end)."""
    arrival_fmt = "%-I:%M %p" if seg.arrival_local.date() == seg.departure_local.date() else None
    arrives = seg.arrival_local.strftime(arrival_fmt) if arrival_fmt else when(seg.arrival_local)
    return (
        f"{seg.flight_number} from {seg.origin} to {seg.destination} departs "
        f"{when(seg.departure_local)} {seg.origin} time and arrives at {arrives} "
        f"{seg.destination} time; {seg.cabin.value.replace('_', ' ')}, trip "
        f"{' '.join(seg.confirmation_code)}."
    )


def hotel_stay(h: HotelStay) -> str:
    return (
        f"{h.hotel_name} in {h.city}, checking in {h.check_in:%A %B %-d} and out "
        f"{h.check_out:%A %B %-d}, {h.nights} night{'s' if h.nights != 1 else ''} at "
        f"{format_money(h.nightly_rate_cents)} a night, hotel confirmation "
        f"{' '.join(h.confirmation_code.replace('-', ''))}."
    )


def cancel_terms(seg: FlightSegment, q: CancelQuote) -> str:
    """What cancelling a flight now would give back, and why (one sentence)."""
    back = {
        RefundKind.REFUND: f"{format_money(q.amount_cents)} would be refunded to the card",
        RefundKind.CREDIT: f"{format_money(q.amount_cents)} would become a travel credit",
        RefundKind.NONE: "nothing would be refunded",
    }[q.refund_kind]
    why = q.reason.split(", so ")[0]
    return f"{seg.flight_number} from {seg.origin} to {seg.destination}: {back}, because {why}."


def hotel_cancel_terms(h: HotelStay) -> str:
    return (
        f"{h.hotel_name}: the hotel's own cancellation deadline and fee are not in our booking "
        f"records; they are on your hotel confirmation "
        f"{' '.join(h.confirmation_code.replace('-', ''))}, and a colleague can check them."
    )


def trip(t: Trip) -> str:
    parts = [f"trip {' '.join(t.confirmation_code)}, {t.name}, {t.start_date:%B %-d}"]
    parts += [f"flight {segment(s)}" for s in t.segments if s.status.value == "confirmed"]
    parts += [
        f"hotel {h.hotel_name} in {h.city}, {h.check_in:%B %-d} to {h.check_out:%B %-d}"
        for h in t.hotels
    ]
    parts += [f"{c.vendor} car from {c.pickup_location}" for c in t.cars]
    return "; ".join(parts)


def option(index: int, opt: FlightOption) -> str:
    return (
        f"Option {index}: {opt.flight_number} departing {when(opt.departure_local)}, "
        f"fare {format_money(opt.fare_cents)}."
    )


def _fare_difference(cents: int) -> str:
    """The new fare against the old, said as a person would ("$25 less", never "-$25")."""
    if cents > 0:
        return f"The new fare is {format_money(cents)} more"
    if cents < 0:
        return f"The new fare is {format_money(-cents)} less"
    return "The fare is the same"


def change_read_back(q: ChangeQuote) -> str:
    money = (
        f"{_fare_difference(q.fare_difference_cents)} and the change fee "
        f"{format_money(q.change_fee_cents)}, so {format_money(q.total_due_cents)} is charged"
    )
    if q.credit_cents:
        money += f", and {format_money(q.credit_cents)} stays with you as a travel credit"
    text = f"To confirm: I'll move you from {q.old_flight} to {q.new_flight}. {money}."
    if q.needs_approval:
        text += f" This needs your manager's approval because {q.approval_reason}, so I would "
        text += "send it for approval rather than change it now."
    return text + " Shall I go ahead?"


def cancel_read_back(q: CancelQuote) -> str:
    back = {
        RefundKind.REFUND: f"{format_money(q.amount_cents)} is refunded to the card",
        RefundKind.CREDIT: f"{format_money(q.amount_cents)} becomes a travel credit",
        RefundKind.NONE: "nothing is refunded",
    }[q.refund_kind]
    return f"To confirm: I'll cancel {q.flight}. {back}, because {q.reason}. Shall I go ahead?"


def day(d: date, same_year: int) -> str:
    """ "December 4", with the year when it is not ``same_year`` ("December 4, 2027")."""
    return f"{d:%B %-d}" if d.year == same_year else f"{d:%B %-d}, {d.year}"


def new_stay(q: HotelChangeQuote, joiner: str) -> str:
    """The new dates of a stay; a year away from the old stay's, they say so: a caller who
    names a past day ("December 4" on December 7) gets next year's, and must hear that."""
    year = q.old_check_in.year
    start, end = day(q.new_check_in, year), day(q.new_check_out, year)
    if joiner == "–" and "," in start + end:
        joiner = " through "  # "2027–December 7" would be read as one run of words
    return f"{start}{joiner}{end}"


def hotel_read_back(q: HotelChangeQuote) -> str:
    nights = (q.new_check_out - q.new_check_in).days
    return (
        f"To confirm: {q.hotel_name} moves from {q.old_check_in:%B %-d}–{q.old_check_out:%B %-d} "
        f"to {new_stay(q, '–')}, {nights} nights at "
        f"{format_money(q.nightly_rate_cents)}, {format_money(q.total_cents)} in total. "
        "Shall I go ahead?"
    )


def approval(a: Approval) -> str:
    """Where a change sent for a manager's approval stands (one sentence)."""
    asked = f"Your change to {a.requested_flight}"
    if a.status is ApprovalStatus.PENDING and a.flight_left:  # no manager decided in time
        return f"{asked} expired unanswered when that flight left; you stay on {a.booked_flight}."
    if a.status is ApprovalStatus.PENDING:
        return (
            f"{asked} is waiting for your manager's approval; you stay on "
            f"{a.booked_flight} until then."
        )
    by = f" by {a.decided_by}" if a.decided_by else ""
    on = f" on {a.decided_at_utc:%B %-d}" if a.decided_at_utc else ""
    if a.status is ApprovalStatus.APPROVED:
        return f"{asked} was approved{by}{on}, so that is your flight now."
    if a.closed_as == "expired":  # the flight asked for left before anyone decided
        return f"{asked} expired when that flight left, before your manager decided."
    if not a.decided_by:  # closed by a later change or a cancellation of that flight
        return f"{asked} was withdrawn when that flight was changed or cancelled."
    return f"{asked} was not approved{by}{on}; you stay on {a.booked_flight}."
