"""The web call page against the REAL worker (`navan-voice worker`, as `make run` starts it):
local Whisper, the offline dialogue engine driving the travel agents, piper, the local avatar,
screen OCR and the recorder — no stand-in anywhere, in real headless Chromium.

test_call_page.py checks the page's plumbing with an echoing test worker; this module checks
that a traveler on the page gets real answers: about what their shared screen shows, and to a
typed question about their own trip.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.web.conftest import WebStack, caller_audio, screenshot
from tests.e2e.web.test_call_page import AGENT_CAPTIONS, sign_in_and_start

pytestmark = pytest.mark.e2e


def captions_matching(page: Any, pattern: str, timeout_ms: int = 120_000) -> str:
    """Wait until an agent caption matches ``pattern`` (a JS regex, case-insensitive)."""
    try:
        page.wait_for_function(
            f"{AGENT_CAPTIONS}.some(t => /{pattern}/i.test(t))", timeout=timeout_ms
        )
    except Exception as e:  # say what the agent did say
        said = page.evaluate("window.navanCall.captions")
        state = page.evaluate("window.navanCall.agentState")
        raise AssertionError(f"no agent caption matches /{pattern}/ (agent {state}): {said}") from e
    captions: list[str] = page.evaluate(AGENT_CAPTIONS)
    return next(t for t in captions if re.search(pattern, t, re.I))


def test_real_agent_reads_the_shared_screen_when_asked(
    real_web_stack: WebStack, browser_page: Any, tmp_path: Path
) -> None:
    # the traveler shares a booking-error page, then asks about it out loud
    wav = caller_audio(
        "Can you see the error on my screen?", tmp_path / "screen.wav", lead_silence_s=9.0
    )
    page = browser_page(audio_wav=wav)
    sign_in_and_start(page, real_web_stack, "?fakeScreen=1&autoShare=1")
    greeting = captions_matching(page, "alex", timeout_ms=90_000)  # signed in as Alex Rivera
    assert "alex" in greeting.lower()
    page.wait_for_function("window.navanCall.avatarTrack === true", timeout=60_000)
    # the agent looked at the screen (look_at_screen → OCR) and says what is on it
    reply = captions_matching(page, "payment declined|E-?4021|HTL-?48213|booking error")
    screenshot(page, "real-agent-screen-question")
    print(f"agent: {reply!r}")
    # spoken to the traveler, not the model's context note
    assert "on your screen" in reply.lower() and "traveler" not in reply.lower(), reply


def test_real_agent_answers_a_typed_question_about_the_trip(
    real_web_stack: WebStack, browser_page: Any
) -> None:
    page = browser_page()
    sign_in_and_start(page, real_web_stack)
    captions_matching(page, "alex", timeout_ms=90_000)
    page.wait_for_function("window.navanCall.agentState === 'listening'", timeout=90_000)
    page.fill("#chat-text", "When is my flight?")
    page.click("#chat-send")
    # the traveler's flights come from the database: UA 1542 SFO → JFK is on trip NVN7Q2
    reply = captions_matching(page, r"UA 1542")
    screenshot(page, "real-agent-typed-question")
    print(f"agent: {reply!r}")
    assert "you said" not in reply.lower()  # the real engine, not an echo
