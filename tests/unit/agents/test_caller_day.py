"""A caller's "tomorrow" is the day after today where their booking is, not on the worker's
clock: the offline engine is told the booking's time zone before each reply."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from livekit.agents import AgentSession
from tests.unit.agents.test_conversations import phone_state, segment_row

from navan_voice.agents import build_first_agent, prepare_call
from navan_voice.agents.state import CallState
from navan_voice.db import tables as t
from navan_voice.db.engine import SessionFactory, transaction
from navan_voice.services import trips
from navan_voice.speech.dialogue import LocalDialogueLLM, RulesEngine
from navan_voice.speech.dialogue.clock import CALLER_ZONE, caller_today
from navan_voice.tools.trips import zone_reads_settled

pytestmark = pytest.mark.unit


def a_zone_in_another_day() -> str:
    """A zone whose date is not the worker's now: 26 hours lie between these two, so at any
    moment one of them is on another day than the worker's clock."""
    return next(
        z
        for z in ("Pacific/Kiritimati", "Etc/GMT+12")
        if dt.datetime.now(ZoneInfo(z)).date() != dt.date.today()
    )


async def arguments_of(state: CallState, tool: str, *turns: str) -> list[dict[str, object]]:
    """The arguments of every call of ``tool`` the rules engine made over ``turns``."""
    await prepare_call(state)
    found: list[dict[str, object]] = []
    async with AgentSession[CallState](
        llm=LocalDialogueLLM(RulesEngine()), userdata=state
    ) as session:
        await session.start(build_first_agent(state))
        for words in turns:
            if not words:
                await zone_reads_settled()
                continue
            result = await session.run(user_input=words)
            found += [
                json.loads(ev.item.arguments)  # type: ignore[union-attr]
                for ev in result.events
                if ev.type == "function_call" and ev.item.name == tool  # type: ignore[union-attr]
            ]
    return found


async def test_tomorrow_counts_from_today_where_the_flight_leaves(db: SessionFactory) -> None:
    zone = a_zone_in_another_day()
    row = segment_row(db, "UA 1542")
    assert row is not None
    with transaction(db) as s:
        seg = s.get(t.FlightSegment, row.id)
        assert seg is not None
        seg.departure_tz = zone  # the airport it leaves from is on another day than the worker
    state = phone_state(db)
    found = await arguments_of(
        state,
        "find_alternative_flights",
        "I need to change my flight UA 1542",
        "",  # a moment later (the flight's zone is read in the background)
        "Can you move it to tomorrow instead?",
    )
    tomorrow = dt.datetime.now(ZoneInfo(zone)).date() + dt.timedelta(days=1)
    assert found and found[-1].get("date") == tomorrow.isoformat(), found
    assert state.zone == zone


def test_the_day_is_the_workers_until_a_booking_is_discussed() -> None:
    assert caller_today() == dt.date.today()
    zone = a_zone_in_another_day()
    token = CALLER_ZONE.set(zone)
    try:
        assert caller_today() == dt.datetime.now(ZoneInfo(zone)).date() != dt.date.today()
    finally:
        CALLER_ZONE.reset(token)


def test_a_trip_counts_where_its_first_flight_leaves_and_anothers_trip_not_at_all(
    db: SessionFactory,
) -> None:
    with transaction(db) as s:
        trip = s.query(t.Trip).filter(t.Trip.confirmation_code == "NVN7Q2").one()
        first = min(trip.segments, key=lambda seg: seg.departure_utc)
        owner, code, first_tz = trip.traveler_id, trip.confirmation_code, first.departure_tz
    assert trips.booking_zone(db=db, traveler_id=owner, trip_code=code) == first_tz
    assert trips.booking_zone(db=db, traveler_id=owner + 1000, trip_code=code) is None
    assert trips.booking_zone(db=db, traveler_id=owner) is None
