"""What the caller hears and what the log says when a service fails unexpectedly."""

from __future__ import annotations

import logging

import pytest
from livekit.agents.llm import ToolError

from navan_voice.tools._call import read_service
from navan_voice.tools.state import CallState

pytestmark = pytest.mark.unit


async def test_an_unexpected_failure_is_an_apology_and_a_log_line_naming_the_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(**_: object) -> None:
        raise RuntimeError("boom")

    state = CallState(call_id="call-42", db=None)  # type: ignore[arg-type]  # never opened
    with caplog.at_level(logging.ERROR), pytest.raises(ToolError, match="support case"):
        await read_service(state, broken)
    assert any("call-42" in r.getMessage() and "broken" in r.getMessage() for r in caplog.records)
