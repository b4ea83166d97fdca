"""Migrations build the same schema as the tables; the seed is idempotent and dated from today."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from navan_voice.db import tables as t
from navan_voice.db.engine import (
    downgrade_database,
    make_engine,
    make_session_factory,
    transaction,
    upgrade_database,
)
from navan_voice.db.seed import DEMO_CONFIRMATION, DEMO_PHONE, seed_database

pytestmark = pytest.mark.unit


def test_migrations_match_the_tables_and_go_down(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'm.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert set(t.Base.metadata.tables) <= tables  # other packages may add their own tables
    for name, table in t.Base.metadata.tables.items():
        columns = {c["name"] for c in inspect(engine).get_columns(name)}
        assert columns == set(table.columns.keys()), name
    downgrade_database(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_seed_is_idempotent_and_relative_to_today(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    today = date(2026, 5, 4)
    assert seed_database(url, today=today) is True
    assert seed_database(url, today=today) is False
    factory = make_session_factory(url)
    with transaction(factory) as s:
        counts = {
            table: s.scalar(select(func.count()).select_from(table))
            for table in (t.Company, t.Traveler, t.Trip, t.ScheduledFlight)
        }
        demo = s.scalars(
            select(t.Traveler).join(t.TravelerPhone).where(t.TravelerPhone.phone_e164 == DEMO_PHONE)
        ).one()
        trip = s.scalars(select(t.Trip).where(t.Trip.confirmation_code == DEMO_CONFIRMATION)).one()
        assert (demo.first_name, demo.last_name, trip.traveler_id) == ("Alex", "Rivera", demo.id)
        assert trip.start_date == today + timedelta(days=10)
        # the booked flight is in the schedule, so alternatives on its route exist
        seg = trip.segments[0]
        listed = s.scalars(
            select(t.ScheduledFlight).where(
                t.ScheduledFlight.flight_number == seg.flight_number,
                t.ScheduledFlight.departure_utc == seg.departure_utc,
            )
        ).one()
        assert listed.origin == seg.origin
    assert counts[t.Company] == 3 and counts[t.Traveler] == 5 and counts[t.Trip] == 7
    assert counts[t.ScheduledFlight] > 500
    assert seed_database(url, today=today + timedelta(days=1), reset=True) is True
    factory.kw["bind"].dispose()


def test_local_times_carry_their_zone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'z.db'}"
    seed_database(url, today=date(2026, 1, 15))
    factory = make_session_factory(url)
    with transaction(factory) as s:
        seg = s.scalars(select(t.FlightSegment).where(t.FlightSegment.origin == "SFO")).first()
        assert seg is not None and seg.departure_tz == "America/Los_Angeles"
        # January in San Francisco is UTC-8
        assert seg.departure_utc - seg.departure_local == timedelta(hours=8)
    factory.kw["bind"].dispose()
