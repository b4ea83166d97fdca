"""Fixtures: the dialogue engine as an LLM with a fixed "today", and a session factory."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from livekit.agents import AgentSession

from navan_voice.speech.dialogue import LocalDialogueLLM, RulesEngine

TODAY = dt.date(2026, 5, 4)  # a Monday


@pytest.fixture
def today() -> dt.date:
    return TODAY


@pytest.fixture
async def session() -> AsyncIterator[AgentSession]:
    llm = LocalDialogueLLM(RulesEngine(today=lambda: TODAY))
    async with AgentSession(llm=llm) as sess:
        yield sess
