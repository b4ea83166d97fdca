"""Travel-policy answers, built from the company's structured rules (never made up)."""

from __future__ import annotations

import re
from datetime import timedelta

from navan_voice.db import repositories as repo
from navan_voice.db.engine import SessionFactory, transaction
from navan_voice.domain.errors import InvalidRequestError, NotFoundError
from navan_voice.domain.models import CabinClass, PolicySummary, format_money
from navan_voice.services.common import require_traveler, utc_now

TOPICS = ("cabin", "hotel", "advance_booking", "approval", "all")


def _cabin_name(cabin: CabinClass) -> str:
    return cabin.value.replace("_", " ")


def get_policy(*, db: SessionFactory, traveler_id: int | None) -> PolicySummary:
    """The caller's company travel policy."""
    with transaction(db) as session:
        traveler = require_traveler(session, traveler_id)
        company = repo.company_with_policy(session, traveler.company_id)
        if company is None or company.policy is None:
            raise NotFoundError("I could not find your company's travel policy.")
        return repo.to_policy(company)


def route_minutes(*, db: SessionFactory, origin: str, destination: str) -> int:
    """The scheduled flying time between two airports, in minutes."""
    with transaction(db) as session:
        moment = utc_now()
        flights = repo.scheduled_between(
            session,
            origin.upper(),
            destination.upper(),
            moment - timedelta(days=365),  # not replace(year=...): no Feb 29 a year off
            moment + timedelta(days=365),
        )
        if not flights:
            raise NotFoundError(
                f"I have no schedule between {origin.upper()} and {destination.upper()}, so I "
                "cannot tell the flight length; the cabin rules are by flight length."
            )
        return flights[0].duration_minutes


def answer_policy_question(
    *,
    db: SessionFactory,
    traveler_id: int | None,
    topic: str,
    city: str = "",
    origin: str = "",
    destination: str = "",
) -> str:
    """A speakable answer about ``topic`` (one of ``TOPICS``) from the structured rules."""
    topic = topic.strip().lower().replace(" ", "_").replace("-", "_")
    if topic not in TOPICS:
        raise InvalidRequestError(
            f"I can answer about {', '.join(t.replace('_', ' ') for t in TOPICS[:-1])}; "
            "which one would you like?"
        )
    policy = get_policy(db=db, traveler_id=traveler_id)
    parts = []
    if topic in ("cabin", "all"):
        if origin and destination:
            minutes = route_minutes(db=db, origin=origin, destination=destination)
            allowed = policy.allowed_cabin(minutes)
            parts.append(
                f"{origin.upper()} to {destination.upper()} is about {minutes // 60} hours "
                f"{minutes % 60} minutes, so the policy allows {_cabin_name(allowed)}."
            )
        else:
            rules = ", ".join(
                f"{_cabin_name(c)} from {m // 60} hours" if m else f"{_cabin_name(c)} by default"
                for m, c in policy.cabin_rules
            )
            parts.append(f"Cabin rules: {rules}.")
    if topic in ("hotel", "all"):
        if city:
            parts.append(
                f"The nightly hotel cap in {city} is {format_money(policy.hotel_cap(city))}."
            )
        else:
            caps = ", ".join(f"{c} {format_money(v)}" for c, v in policy.hotel_caps_cents.items())
            parts.append(
                f"Nightly hotel caps: {caps + ', ' if caps else ''}"
                f"{format_money(policy.default_hotel_cap_cents)} elsewhere."
            )
    if topic in ("advance_booking", "all"):
        parts.append(
            f"Flights should be booked at least {policy.advance_booking_days} days ahead; "
            "later bookings that add cost need a manager's approval."
        )
    if topic in ("approval", "all"):
        parts.append(
            f"Changes costing more than {format_money(policy.approval_threshold_cents)} "
            "need a manager's approval."
        )
    return f"{policy.company_name} policy: " + " ".join(parts)


_TOPIC_WORDS = {
    "cabin": ("cabin", "business", "first", "economy", "premium", "class", "upgrade", "seat"),
    "hotel": ("hotel", "night", "nightly", "room", "stay", "lodging"),
    "advance_booking": ("advance", "ahead", "in advance", "how early", "last minute", "notice"),
    "approval": ("approval", "approve", "manager", "threshold", "sign off"),
}


def topic_for_question(question: str) -> str:
    """The policy topic a question in the caller's words is about ("all" when unclear)."""
    low = question.lower()
    scores = {
        topic: sum(1 for w in words if re.search(rf"\b{re.escape(w)}\b", low))
        for topic, words in _TOPIC_WORDS.items()
    }
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] else "all"
