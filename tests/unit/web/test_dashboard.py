"""The dashboard: no anonymous access, filters, call page, recording problems, hostile tags."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.unit.web.conftest import sign_in_dashboard

from navan_voice.db.engine import SessionFactory
from navan_voice.recording.testing import demo_call

pytestmark = pytest.mark.unit

HOSTILE = "<script>alert('x')</script>" + "A" * 5000


def _add(db: SessionFactory, call_id: str, **kw: object) -> None:
    row = demo_call(call_id, started_at=datetime.now(UTC).replace(tzinfo=None), **kw)  # type: ignore[arg-type]
    with db() as session, session.begin():
        session.add(row)


@pytest.mark.parametrize(
    "path", ["/dashboard/calls", "/dashboard/calls/demo-1", "/dashboard/overview"]
)
def test_pages_need_sign_in(client: TestClient, path: str) -> None:
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/dashboard/login")


def test_audio_needs_sign_in(client: TestClient) -> None:
    assert client.get("/dashboard/calls/demo-1/audio").status_code == 403


def test_wrong_password_refused(client: TestClient) -> None:
    r = client.post("/dashboard/login", data={"password": "guess"})
    assert r.status_code == 401 and "Wrong password" in r.text
    assert client.get("/dashboard/calls", follow_redirects=False).status_code == 303


def test_no_password_configured_means_no_sign_in(web_db: SessionFactory) -> None:
    from navan_voice.config import load_settings
    from navan_voice.web.app import build_app

    app = build_app(load_settings(profile="local"), session_factory=web_db)
    with TestClient(app) as c:
        r = c.post("/dashboard/login", data={"password": ""})
        assert r.status_code in (401, 422)
        r = c.post("/dashboard/login", data={"password": "anything"})
        assert r.status_code == 401 and "NAVAN_DASHBOARD_PASSWORD" in r.text


def test_calls_list_and_filters(client: TestClient) -> None:
    sign_in_dashboard(client)
    page = client.get("/dashboard/calls").text
    for call_id in ("demo-1", "demo-2", "demo-3", "demo-4"):
        assert f'data-call="{call_id}"' in page
    transferred = client.get("/dashboard/calls", params={"outcome": "transferred"}).text
    assert 'data-call="demo-2"' in transferred and 'data-call="demo-1"' not in transferred
    by_tag = client.get("/dashboard/calls", params={"tag": "refund_requested"}).text
    assert 'data-call="demo-2"' in by_tag and 'data-call="demo-4"' not in by_tag
    by_agent = client.get("/dashboard/calls", params={"agent": "expenses"}).text
    assert 'data-call="demo-4"' in by_agent and 'data-call="demo-2"' not in by_agent
    none = client.get("/dashboard/calls", params={"traveler": "Nobody", "since": "2001-01-01"})
    assert "No calls match" in none.text


def test_call_page_sections_and_missing_recording(client: TestClient) -> None:
    sign_in_dashboard(client)
    page = client.get("/dashboard/calls/demo-2").text
    assert 'id="transcript"' in page and 'data-start="' in page
    assert "greeter → hotels" in page and "request_refund" in page
    assert '<svg class="chart"' in page
    assert "This call has no recording." in page
    assert client.get("/dashboard/calls/nope").status_code == 404


def test_recording_missing_corrupt_and_good(
    client: TestClient, web_db: SessionFactory, tmp_path: Path
) -> None:
    corrupt = tmp_path / "bad.ogg"
    corrupt.write_bytes(b"not audio at all")
    good = tmp_path / "good.ogg"
    good.write_bytes(b"OggS" + b"\0" * 60)
    _add(web_db, "gone", recording_path=str(tmp_path / "deleted.ogg"))
    _add(web_db, "corrupt", recording_path=str(corrupt))
    _add(web_db, "good", recording_path=str(good))
    sign_in_dashboard(client)
    assert "missing from storage" in client.get("/dashboard/calls/gone").text
    assert "corrupt" in client.get("/dashboard/calls/corrupt").text
    assert client.get("/dashboard/calls/corrupt/audio").status_code == 404
    assert 'id="player"' in client.get("/dashboard/calls/good").text
    audio = client.get("/dashboard/calls/good/audio")
    assert audio.status_code == 200 and audio.content.startswith(b"OggS")


def test_hostile_tag_is_escaped_and_bounded(client: TestClient, web_db: SessionFactory) -> None:
    _add(web_db, "hostile", tags={HOSTILE: HOSTILE, "note": HOSTILE})
    sign_in_dashboard(client)
    for page in (client.get("/dashboard/calls").text, client.get("/dashboard/calls/hostile").text):
        assert "<script>alert" not in page
        assert "&lt;script&gt;" in page
        assert "A" * 1000 not in page


def test_overview(client: TestClient) -> None:
    sign_in_dashboard(client)
    page = client.get("/dashboard/overview").text
    assert "4</b> calls" in page
    assert "50%</b> contained" in page  # demo-1 and demo-4 of four
    assert "0</b> caller turns not understood" in page
    assert "hotel_refund" in page and "flight_change" in page
    assert "<polyline" in page
