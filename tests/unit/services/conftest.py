"""A fresh seeded database per test: SQLite always, PostgreSQL too when
NAVAN_TEST_POSTGRES_URL names a server (``scripts/postgres.sh`` starts a throwaway one)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from navan_voice.db.engine import SessionFactory, make_session_factory
from navan_voice.db.testing import PostgresTemplate, SqliteTemplate

POSTGRES_ENV = "NAVAN_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(Path(tmp_path_factory.mktemp("sqlite")))


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[PostgresTemplate]:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set; run scripts/postgres.sh to start a server")
    template = PostgresTemplate(url)
    yield template
    template.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a fresh copy of the demo database."""
    template: SqliteTemplate | PostgresTemplate = request.getfixturevalue(
        f"{request.param}_template"
    )
    url = template.fresh()
    yield url
    template.drop(url)


@pytest.fixture
def db(db_url: str) -> Iterator[SessionFactory]:
    factory = make_session_factory(db_url)
    yield factory
    bind = factory.kw["bind"]
    bind.dispose()
