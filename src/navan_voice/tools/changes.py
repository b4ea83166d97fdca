"""The second step of every change: the caller said yes (``confirm_change``) or no."""

from __future__ import annotations

import logging

from livekit.agents import RunContext, function_tool
from livekit.agents.llm import ToolError

from navan_voice.domain.errors import DataUnavailableError, PriceChangedError
from navan_voice.domain.models import (
    CancelQuote,
    ChangeOutcome,
    ChangeQuote,
    HotelChangeQuote,
    format_money,
)
from navan_voice.services import flights, hotels
from navan_voice.tools import speech
from navan_voice.tools._call import call_service, require_identified, state_of
from navan_voice.tools.state import CallState, PendingChange

logger = logging.getLogger(__name__)


@function_tool
async def confirm_change(context: RunContext[CallState]) -> str:
    """Make the change just read back, after the caller clearly said yes to it."""
    state = state_of(context)
    traveler_id = require_identified(state)
    pending = state.pending
    if pending is None:
        raise ToolError(
            "There is no change waiting for confirmation; tell me what you would like to change."
        )
    if not _caller_began_since(context, pending.quoted_at):
        # the caller has said nothing they began after the change was read back to them: an
        # "okay" said over "one moment, I'm still checking", or a model that proposes and
        # confirms in one go. It cannot be their yes to a price they had not heard yet.
        logger.info("confirmation asked again: the caller's turn began before the read-back")
        state.tags["confirmation_asked_again"] = "1"
        return f"Before I change anything, I need your yes to this. {pending.read_back}"
    state.pending = None  # one answer per read-back, whatever happens next
    try:
        return await _apply(state, pending, traveler_id)
    except ToolError as e:
        cause = e.__cause__
        if isinstance(cause, DataUnavailableError):
            # nothing was written: the change stays read back, for a yes once the bookings
            # answer again or for the colleague's case
            state.pending = pending
            state.note(f"Not done, bookings unavailable: {pending.read_back}")
        elif isinstance(cause, PriceChangedError) and isinstance(pending.quote, ChangeQuote):
            return await _quote_again(state, pending.quote, traveler_id, str(cause))
        raise


def _caller_began_since(context: RunContext[CallState], moment: float) -> bool:
    """Whether the caller began to speak or type after ``moment`` (wall clock): livekit stamps
    a spoken turn with the start of its speech, a typed one with when it arrived, and the
    worker notes when the caller last began to speak (``CallState.heard_caller``; a realtime
    model's transcript can reach the conversation after its tool call). True outside a
    session, where nothing can tell."""
    if not isinstance(context, RunContext):
        return True
    if context.userdata.caller_spoke_at > moment:
        return True
    for item in reversed(context.session.current_agent.chat_ctx.items):
        if item.type == "message" and item.role == "user":
            return item.metrics.get("started_speaking_at", item.created_at) > moment
    return False


async def _quote_again(state: CallState, old: ChangeQuote, traveler_id: int, why: str) -> str:
    """The price moved after the read-back: read the change back at the new price (the yes
    that follows confirms that one)."""
    fresh = await call_service(
        flights.quote_flight_change,
        db=state.db,
        traveler_id=traveler_id,
        segment_id=old.segment_id,
        option_id=old.option_id,
        cabin=old.cabin,
    )
    read_back = speech.change_read_back(fresh)
    state.pending = PendingChange(fresh, read_back)
    return f"{why} {read_back}"


async def _apply(state: CallState, pending: PendingChange, traveler_id: int) -> str:
    quote = pending.quote
    common = {"db": state.db, "traveler_id": traveler_id, "call_id": state.call_id}
    if isinstance(quote, ChangeQuote):
        result = await call_service(flights.change_flight, quote=quote, **common)
        state.options = []
        if result.outcome is ChangeOutcome.SENT_FOR_APPROVAL:
            state.note(f"Flight change sent for approval: {quote.new_flight}.")
            return (
                "I've sent the change to your manager for approval; your current flight stays "
                "booked until it is approved. Call or ask me any time and I'll tell you where "
                "it stands."
            )
        state.note(f"Flight changed to {speech.segment(result.segment)}.")
        return (
            f"Done. You're now on {speech.segment(result.segment)}. "
            f"{format_money(quote.total_due_cents)} was charged. The new itinerary is on its "
            "way by email."
        )
    if isinstance(quote, CancelQuote):
        done = await call_service(flights.cancel_segment, quote=quote, **common)
        state.note(f"Cancelled {done.flight} ({done.refund_kind.value}).")
        return f"Done. {done.flight} is cancelled. You'll get a confirmation email."
    if isinstance(quote, HotelChangeQuote):
        await call_service(hotels.change_hotel_dates, quote=quote, **common)
        state.note(f"Hotel dates changed: {quote.hotel_name}.")
        return f"Done. {quote.hotel_name} is now booked from {speech.new_stay(quote, ' to ')}."
    raise ToolError("I could not tell what kind of change that was; let's start it again.")


@function_tool
async def discard_pending_change(context: RunContext[CallState]) -> str:
    """Drop the change just read back, when the caller says no or changes their mind."""
    state = state_of(context)
    had = state.pending is not None
    state.pending = None
    return "Okay, I haven't changed anything." if had else "There was nothing pending."
