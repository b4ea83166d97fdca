"""Agent tests: a fresh seeded SQLite database per test and a call state around it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# tests/fakes is imported as ``tests.fakes``; the repository root must be importable for that
ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from navan_voice.db.engine import SessionFactory, make_session_factory  # noqa: E402
from navan_voice.db.testing import SqliteTemplate  # noqa: E402


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(Path(tmp_path_factory.mktemp("agents-db")))


@pytest.fixture
def db(sqlite_template: SqliteTemplate) -> Iterator[SessionFactory]:
    url = sqlite_template.fresh()
    factory = make_session_factory(url)
    yield factory
    factory.kw["bind"].dispose()
    sqlite_template.drop(url)
