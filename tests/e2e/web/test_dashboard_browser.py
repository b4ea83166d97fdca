"""The dashboard in real headless Chromium: sign in, open a call, play it in step with the
transcript; a call whose recording is gone says so."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.web.conftest import DASHBOARD_PASSWORD, WebStack, screenshot

from navan_voice.db.engine import make_session_factory
from navan_voice.recording.testing import demo_call

pytestmark = pytest.mark.e2e


def recorded_call(database_url: str, folder: Path, *, audio: bool = True) -> str:
    """A call row whose recording is a real Ogg/Opus file of speech (or a path that is gone)."""
    ogg = folder / "call.ogg"
    if audio:
        wav = folder / "call.wav"
        subprocess.run(
            [
                "flite",
                "-t",
                "I need to change my flight to Boston. Sure, let me look.",
                "-o",
                str(wav),
            ],
            check=True,
        )
        subprocess.run(
            ["sox", str(wav), "-r", "48000", "-c", "2", str(ogg), "pad", "0", "8"], check=True
        )
    call_id = f"e2e-{uuid.uuid4().hex[:8]}"
    row = demo_call(
        call_id,
        started_at=datetime.now(UTC).replace(tzinfo=None),
        recording_path=str(ogg),
        tags={"e2e": True, "<b>bold</b>": "<img src=x onerror=alert(1)>"},
        latencies_ms=[900.0, 1300.0],
    )
    factory = make_session_factory(database_url)
    with factory() as session, session.begin():
        session.add(row)
    return call_id


def sign_in(page: Any, app: WebStack) -> None:
    page.goto(f"{app.url}/dashboard/calls")
    assert "/dashboard/login" in page.url  # no anonymous access
    page.fill("input[name=password]", DASHBOARD_PASSWORD)
    page.click("#login button")
    page.wait_for_selector("table.calls")


def test_sign_in_open_a_call_and_play_it(
    dashboard_app: WebStack, browser_page: Any, tmp_path: Path
) -> None:
    call_id = recorded_call(dashboard_app.database_url, tmp_path)
    page = browser_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, dashboard_app)
    page.click(f"tr[data-call='{call_id}'] a")
    page.wait_for_selector("#player")
    assert page.inner_text("#handoffs").count("→") == 1
    assert page.locator("svg.chart rect").count() >= 8  # 2 turns × 4 stages
    page.click("#transcript li[data-start]")  # seeks to the first line and plays
    page.wait_for_function(
        "parseFloat(document.body.dataset.playhead || '0') > 1.0", timeout=20_000
    )
    assert page.locator("#transcript li.active").count() == 1
    screenshot(page, "dashboard-call-playing")
    assert not dialogs  # the hostile tag was shown as text, not run
    assert "<img src=x" in page.inner_text("body")
    page.goto(f"{dashboard_app.url}/dashboard/overview")
    assert "contained" in page.inner_text("#kpis")
    screenshot(page, "dashboard-overview")


def test_missing_recording_is_explained(
    dashboard_app: WebStack, browser_page: Any, tmp_path: Path
) -> None:
    call_id = recorded_call(dashboard_app.database_url, tmp_path, audio=False)
    page = browser_page()
    sign_in(page, dashboard_app)
    page.goto(f"{dashboard_app.url}/dashboard/calls/{call_id}")
    assert "missing" in page.inner_text("#recording-problem")
    screenshot(page, "dashboard-missing-recording")
