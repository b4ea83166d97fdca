"""Evals of whole calls: the real travel agents on a fresh seeded database per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from navan_voice.db.engine import SessionFactory, make_session_factory
from navan_voice.db.testing import SqliteTemplate


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(Path(tmp_path_factory.mktemp("evals-db")))


@pytest.fixture
def db(sqlite_template: SqliteTemplate) -> Iterator[SessionFactory]:
    url = sqlite_template.fresh()
    factory = make_session_factory(url)
    yield factory
    factory.kw["bind"].dispose()
    sqlite_template.drop(url)
