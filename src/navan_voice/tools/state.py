"""Per-call state: one typed dataclass, shared by all agents of a call (``RunContext[CallState]``).

A hand-off passes the same object on, so the caller never repeats who they are, which trip they
mean or what was just read back to them. ``navan_voice.agents.state`` re-exports it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from navan_voice.db.engine import SessionFactory
from navan_voice.domain.models import (
    CancelQuote,
    ChangeQuote,
    Channel,
    FlightOption,
    HotelChangeQuote,
)
from navan_voice.tools.reads_ahead import ReadsAhead


def _set_event() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event


@dataclass(frozen=True)
class TransferRequest:
    """What the telephony layer needs for a cold transfer to a human."""

    call_id: str
    reason: str
    summary: str
    case_reference: str | None
    briefing: str = ""  # the summary as spoken to a colleague on a warm transfer


# A hook the worker injects on phone calls: performs the SIP transfer (REFER) to a human.
TransferHook = Callable[[TransferRequest], Awaitable[None]]

PendingQuote = ChangeQuote | CancelQuote | HotelChangeQuote


@dataclass
class PendingChange:
    """A change read back to the caller, waiting for their "yes" (``confirm_change``)."""

    quote: PendingQuote
    read_back: str
    # when it was read back (wall clock, as livekit stamps the start of a caller's turn): a
    # turn the caller began before this cannot be their yes to it (tools/changes.py)
    quoted_at: float = field(default_factory=time.time)


@dataclass
class CallState:
    call_id: str
    db: SessionFactory
    channel: Channel = Channel.PHONE
    caller_phone: str | None = None
    traveler_id: int | None = None
    traveler_name: str | None = None
    company_name: str | None = None
    current_trip_code: str | None = None
    current_segment_id: int | None = None
    current_hotel_id: int | None = None
    options: list[FlightOption] = field(default_factory=list)  # as read out, option 1 first
    pending: PendingChange | None = None
    agents_visited: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what happened, for a human's summary
    tags: dict[str, str] = field(default_factory=dict)  # free labels for recordings/analytics
    case_reference: str | None = None
    failed_identifications: int = 0  # wrong confirmation code / last name so far
    held_at: float = 0.0  # when (monotonic) a "one moment" was last said (tools/_call.py)
    caller_spoke_at: float = 0.0  # when (wall clock) the caller last began to speak
    # the time zone the caller's "tomorrow" counts in, and the booking it was read for
    # (tools/trips.known_zone)
    zone: str | None = None
    zone_of: tuple[object, ...] | None = None
    room: str = ""  # the LiveKit room of the call (for recordings and logs)
    extra_tools: list[Any] = field(default_factory=list)  # call-wide tools every agent offers
    # the first words of an outbound call (e.g. a disruption notice), said instead of a greeting
    opening_notice: str | None = None
    # a manager's decisions the caller has not heard, said in the greeting (agents/base.py)
    greeting_news: str = ""
    # set once the call's recorder and phone wiring are in place; the greeter waits for it so
    # the greeting is recorded (the worker clears it before the session starts)
    ready: asyncio.Event = field(default_factory=_set_event)
    transfer_to_human: TransferHook | None = None
    # the look-ahead's reads for the turn in progress, shared with its copies of this state
    reads_ahead: ReadsAhead = field(default_factory=ReadsAhead)
    ahead: bool = False  # True on the look-ahead's copy: its reads are kept for the real turn

    @property
    def identified(self) -> bool:
        return self.traveler_id is not None

    def heard_caller(self, user_state: str, at: float) -> None:
        """The session's user state changed (``user_state_changed``): note when the caller
        began to speak."""
        if user_state == "speaking":
            self.caller_spoke_at = at

    def note(self, text: str) -> None:
        """Remember one thing that happened, for the summary a human colleague reads."""
        self.notes.append(text)

    def briefing(self, reason: str = "", case_reference: str | None = None) -> str:
        """What a human colleague hears before taking the call (warm transfer): speakable,
        no ids a listener cannot use."""
        if self.identified:
            who = f"{self.traveler_name} from {self.company_name}"
        else:
            who = "a caller we could not identify"
        parts = [f"Hello, this is the Navan voice assistant with a caller for you: {who}."]
        if reason:
            parts.append(f"They said: {reason.rstrip('.')}.")
        if self.current_trip_code:
            parts.append(f"Their trip is {' '.join(self.current_trip_code)}.")
        if self.pending:
            parts.append(f"Not yet confirmed: {self.pending.read_back}")
        if case_reference:
            parts.append(f"Case {' '.join(case_reference)} has the details.")
        return " ".join(parts)

    def summary(self, reason: str = "") -> str:
        """A summary for a support case: who, what they wanted, what was done."""
        who = (
            f"{self.traveler_name} ({self.company_name}, traveler {self.traveler_id})"
            if self.identified
            else f"unidentified caller{f' from {self.caller_phone}' if self.caller_phone else ''}"
        )
        lines = [f"Caller: {who}. Channel: {self.channel.value}. Call: {self.call_id}."]
        if reason:
            lines.append(f"Reason: {reason}")
        if self.current_trip_code:
            lines.append(f"Trip: {self.current_trip_code}.")
        if self.pending:
            lines.append(f"Not confirmed: {self.pending.read_back}")
        lines.extend(self.notes[-8:])
        return " ".join(lines)
