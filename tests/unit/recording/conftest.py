"""A fresh, migrated SQLite database per test for the recording index."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from navan_voice.db.engine import make_session_factory, upgrade_database


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("recdb") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture
def session_factory(_migrated_template: Path, tmp_path: Path) -> sessionmaker[Session]:
    target = tmp_path / "calls.db"
    target.write_bytes(_migrated_template.read_bytes())
    factory = make_session_factory(f"sqlite:///{target}")
    yield factory  # type: ignore[misc]
    factory.kw["bind"].dispose()
