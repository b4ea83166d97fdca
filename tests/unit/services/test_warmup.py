"""Warming the read-only lookups in a fresh worker process."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from navan_voice.db import tables as t
from navan_voice.db.engine import SessionFactory, make_engine, make_session_factory
from navan_voice.services.warmup import warm_lookups

pytestmark = pytest.mark.unit


def row_counts(db: SessionFactory) -> dict[str, int]:
    with db() as session:
        return {
            name: session.scalar(select(func.count()).select_from(table)) or 0
            for name, table in t.Base.metadata.tables.items()
        }


def test_every_lookup_runs_on_the_seeded_data_and_nothing_is_written(db: SessionFactory) -> None:
    before = row_counts(db)
    assert warm_lookups(db) == 10
    assert row_counts(db) == before


def test_an_empty_database_warms_only_the_phone_lookup(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    t.Base.metadata.create_all(engine)
    assert warm_lookups(make_session_factory(engine)) == 1


def test_a_database_without_tables_does_not_stop_the_worker(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = make_session_factory(f"sqlite:///{tmp_path / 'bare.db'}")
    assert warm_lookups(db) == 0
    assert "warm-up" in caplog.text
