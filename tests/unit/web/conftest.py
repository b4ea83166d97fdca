"""A web app over a fresh seeded database with demo calls, and a client for it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from navan_voice.config import Settings, load_settings
from navan_voice.db.engine import SessionFactory, make_session_factory
from navan_voice.db.testing import SqliteTemplate
from navan_voice.recording.testing import insert_demo_calls
from navan_voice.web.app import build_app

PASSWORD = "correct horse"


@pytest.fixture(scope="session")
def web_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(Path(tmp_path_factory.mktemp("web-sqlite")))


@pytest.fixture
def web_db(web_template: SqliteTemplate) -> Iterator[SessionFactory]:
    url = web_template.fresh()
    factory = make_session_factory(url)
    insert_demo_calls(factory, now=datetime.now(UTC).replace(tzinfo=None))
    yield factory
    factory.kw["bind"].dispose()
    web_template.drop(url)


@pytest.fixture
def web_settings() -> Settings:
    return load_settings(
        profile="local",
        web_secret="unit-test-secret",
        dashboard_password=PASSWORD,
        agent_name="navan-test",
    )


@pytest.fixture
def client(web_settings: Settings, web_db: SessionFactory) -> Iterator[TestClient]:
    with TestClient(build_app(web_settings, session_factory=web_db)) as c:
        yield c


def sign_in_traveler(client: TestClient, code: str = "NVN7Q2", last: str = "Rivera") -> None:
    r = client.post(
        "/signin", data={"confirmation_code": code, "last_name": last}, follow_redirects=False
    )
    assert r.status_code == 303, r.text


def sign_in_dashboard(client: TestClient) -> None:
    r = client.post("/dashboard/login", data={"password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text
