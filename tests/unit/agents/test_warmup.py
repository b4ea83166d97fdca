"""The dialogue warm-up a job process runs in prewarm: every request reaches a reply through the
specialists' hand-offs and lookups, nothing is written, and a database it cannot use only makes
it skip."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from navan_voice.agents.warmup import WARM_REQUESTS, warm_dialogue
from navan_voice.db.engine import SessionFactory, make_session_factory, upgrade_database
from navan_voice.speech.dialogue import LocalDialogueLLM, RulesEngine

pytestmark = pytest.mark.unit


def dump(db: SessionFactory) -> list[str]:
    path = make_url(str(db.kw["bind"].url)).database
    assert path
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


def test_every_request_reaches_a_reply_and_nothing_is_written(db: SessionFactory) -> None:
    before = dump(db)
    played = warm_dialogue(db, LocalDialogueLLM(RulesEngine()))
    assert played == len(WARM_REQUESTS)
    assert dump(db) == before


def test_an_empty_database_is_warmed_with_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade_database(url)  # the schema, no travelers
    factory = make_session_factory(url)
    assert warm_dialogue(factory, LocalDialogueLLM(RulesEngine())) == 0
    factory.kw["bind"].dispose()


def test_a_database_without_its_tables_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    factory = make_session_factory(f"sqlite:///{tmp_path / 'bare.db'}")
    assert warm_dialogue(factory, LocalDialogueLLM(RulesEngine())) == 0
    assert "dialogue warm-up failed" in caplog.text
    factory.kw["bind"].dispose()
